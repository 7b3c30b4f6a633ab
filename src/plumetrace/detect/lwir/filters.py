"""Per-gas matched filter and ACE with each pixel's own, contrast-scaled target.

For gas ``g`` the target of pixel ``x`` is ``t_g(x) = τ ⊙ D(x) ⊙ α_g`` (radiance per ppm·m; ``D`` the observed
thermal contrast, :mod:`plumetrace.detect.lwir.background`). With ``W`` the whitening of the pixel's clutter class,
``t̃ = W t`` and ``r̃ = W (x − μ)``:

* matched-filter column ``ĉ_g = t̃ᵀ r̃ / t̃ᵀ t̃`` (ppm·m) with 1σ ``1 / |t̃|`` — the noise-equivalent column, which
  grows as the contrast falls;
* ACE ``(t̃ᵀ r̃)² / (|t̃|² |r̃|²)`` ∈ [0, 1], signed with ``ĉ_g`` (Kraut & Scharf 1999): the squared cosine between the
  pixel and the gas in whitened space, insensitive to how much clutter energy the pixel holds.
"""

from __future__ import annotations

import numpy as np

from plumetrace.detect.lwir.background import ClutterStatistics, whiten

__all__ = ["whitened_targets", "filter_gases"]


def whitened_targets(
    contrast: np.ndarray, absorption_per_ppm_m: np.ndarray, statistics: ClutterStatistics, classes: np.ndarray
) -> np.ndarray:
    """Whitened targets ``W (contrast ⊙ α_g)`` of each pixel and gas.

    Parameters
    ----------
    contrast : ndarray (n_pix, n_band)
        ``τ ⊙ D`` of each pixel, radiance units.
    absorption_per_ppm_m : ndarray (n_gas, n_band)
        Natural-log absorption per ppm·m on the sensor's channels.
    statistics, classes
        Clutter statistics and each pixel's class.

    Returns
    -------
    ndarray (n_pix, n_gas, n_band)
        Whitened target per ppm·m.
    """
    raw = contrast[:, None, :] * absorption_per_ppm_m[None, :, :]
    return whiten(raw, statistics, classes)


def filter_gases(residual_w: np.ndarray, targets_w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Matched-filter column, its 1σ and the signed ACE score of each pixel and gas.

    Parameters
    ----------
    residual_w : ndarray (n_pix, n_band)
        Whitened ``x − μ``.
    targets_w : ndarray (n_pix, n_gas, n_band)
        Whitened targets per ppm·m.

    Returns
    -------
    (column_ppm_m, sigma_ppm_m, ace) : three ndarrays (n_pix, n_gas)
    """
    score = np.einsum("pgb,pb->pg", targets_w, residual_w)
    norm2 = np.einsum("pgb,pgb->pg", targets_w, targets_w)
    energy = np.einsum("pb,pb->p", residual_w, residual_w)
    with np.errstate(divide="ignore", invalid="ignore"):
        column = score / norm2
        sigma = 1.0 / np.sqrt(norm2)
        ace = np.sign(score) * score**2 / (norm2 * energy[:, None])
    return column, sigma, np.clip(ace, -1.0, 1.0)
