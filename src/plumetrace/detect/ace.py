"""Adaptive coherence/cosine estimator (ACE; Kraut & Scharf 1999, Manolakis et al. 2014).

ACE is the squared cosine between the pixel and the target in whitened space,

``ACE = ((x - μ)ᵀ C⁻¹ s)² / ((sᵀ C⁻¹ s) ((x - μ)ᵀ C⁻¹ (x - μ)))``  ∈ [0, 1],

invariant to the scale of the background clutter, so it ranks pixels robustly against bright or dark surfaces.
The detector returns the signed score (sign of the matched-filter numerator), alongside the matched-filter amplitude
as the enhancement in ppm·m.
"""

from __future__ import annotations

import numpy as np

from plumetrace.detect.matched_filter import FilterWeights

__all__ = ["whitening_matrices", "ace_score"]


def whitening_matrices(weights: FilterWeights) -> np.ndarray:
    """Inverse transposed Cholesky factors ``L⁻ᵀ`` (n_group, n_band, n_band) float32: ``|dᵀ L⁻ᵀ|² = dᵀ C⁻¹ d``."""
    n_band = weights.chol.shape[-1]
    eye = np.broadcast_to(np.eye(n_band), weights.chol.shape)
    inv = np.linalg.solve(weights.chol, eye)  # L⁻¹
    return np.ascontiguousarray(np.swapaxes(inv, -1, -2)).astype(np.float32)


def ace_score(
    centred: np.ndarray,
    score: np.ndarray,
    whitening: np.ndarray,
    normalizer: np.ndarray,
) -> np.ndarray:
    """Signed ACE score of a block.

    Parameters
    ----------
    centred : ndarray (n_col, n_row, n_band) float32
        ``x - μ`` of each pixel.
    score : ndarray (n_col, n_row)
        Matched-filter numerator ``(x - μ)ᵀ C⁻¹ s``.
    whitening : ndarray (n_col, n_band, n_band) float32
        ``L⁻ᵀ`` of each pixel's column (its group's).
    normalizer : ndarray (n_col,)
        ``sᵀ C⁻¹ s`` of each column's group.

    Returns
    -------
    ndarray (n_col, n_row) float32 in [-1, 1].
    """
    white = np.matmul(centred, whitening)
    mahalanobis = np.einsum("crb,crb->cr", white, white)
    with np.errstate(divide="ignore", invalid="ignore"):
        ace = score * np.abs(score) / (normalizer.astype(np.float32)[:, None] * mahalanobis)
    return np.clip(ace, -1.0, 1.0).astype(np.float32)
