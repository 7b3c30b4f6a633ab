"""Push-broom column effects for the simulator: spectral smile and per-column radiometric gain error.

A push-broom imaging spectrometer images the slit onto a 2-D detector: each cross-track column is its own
spectrometer. Two departures from a perfect instrument vary with the column (magnitudes per preset and their sources:
:class:`plumetrace.simulate.sensors.ColumnEffects`):

* **Spectral smile** — the slit image is slightly curved on the detector, so every band centre of column ``c`` is
  shifted by ``δ(c)`` nm. We use the classic parabola across the swath, ``δ(u) = smile_nm · (u² - mean u²)`` with
  ``u ∈ [-1, 1]`` the normalised cross-track position: the edge-to-centre difference is ``smile_nm`` and the
  swath-average shift is zero (the nominal wavelength table is the average calibration). Physically rendered: each
  column's radiance is the high-resolution spectrum convolved with *its* shifted Gaussian responses. Responses are
  built at a few shifts ("nodes", at most ``node_step_nm`` apart) and each column's band radiance is interpolated
  linearly between its two bracketing nodes; the interpolation error is ``≈ Δ²/8 · ∂²L/∂δ²`` (< 1e-4 relative for
  0.1 nm nodes and 7-10 nm wide bands; tests/simulate/test_columns.py bounds it against the exact convolution).
* **Radiometric gain error** — the flat field leaves a residual: calibrated radiance = ``g(c, b) ×`` true radiance
  with ``g = 1 + smooth(c, b) + random(c, b)``. ``random`` is independent N(0, ``gain_random_sigma``) per column and
  band; ``smooth`` is the product of a random smooth cross-track curve (4 cosine modes) and a random smooth spectral
  curve (3 cosine modes over the band index), scaled to RMS exactly ``gain_smooth_sigma``. The gain multiplies the
  noisy signal (a calibration error applies to everything the detector recorded).

All draws come from a generator seeded by ``(seed, 2)``, a stream of its own: turning the effects on leaves the
background, plume and noise draws of a scene unchanged.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from plumetrace.errors import InvalidInputError
from plumetrace.simulate.sensors import ColumnEffects

__all__ = ["ColumnModel", "smile_profile_nm", "column_gain", "shift_nodes", "column_model"]

#: Largest spacing of the shifts at which band responses are built exactly (nm).
NODE_STEP_NM = 0.1


@dataclass(frozen=True)
class ColumnModel:
    """Column effects of one simulated scene.

    shift_nm : (n_col,) band-centre shift of each column, nm.
    gain : (n_col, n_band) float32 multiplicative radiometric gain (1 = perfect).
    nodes_nm : (n_node,) shifts at which band responses are built exactly, increasing.
    node_index : (n_col,) int, index ``j`` of the node below each column's shift (``nodes[j] ≤ δ ≤ nodes[j+1]``).
    node_frac : (n_col,) float32, position of the shift between node ``j`` and ``j + 1`` (0-1).
    effects : the magnitudes used.
    """

    shift_nm: np.ndarray
    gain: np.ndarray
    nodes_nm: np.ndarray
    node_index: np.ndarray
    node_frac: np.ndarray
    effects: ColumnEffects


def _validate(effects: ColumnEffects) -> None:
    for name, value, hi in (
        ("smile_nm", effects.smile_nm, 5.0),
        ("gain_random_sigma", effects.gain_random_sigma, 0.2),
        ("gain_smooth_sigma", effects.gain_smooth_sigma, 0.2),
    ):
        if not (np.isfinite(value) and 0.0 <= value <= hi):
            raise InvalidInputError(f"column_effects.{name}", f"{value} must lie in 0-{hi}")


def smile_profile_nm(n_col: int, smile_nm: float) -> np.ndarray:
    """Band-centre shift of each column, nm: ``smile_nm · (u² - mean u²)``, ``u`` from -1 (first) to 1 (last column).

    Returns (n_col,) float64; ``max - min`` is ``smile_nm`` (edge minus centre) for an odd number of columns.
    """
    if n_col < 1:
        raise InvalidInputError("n_col", f"{n_col} must be at least 1")
    u = np.linspace(-1.0, 1.0, n_col) if n_col > 1 else np.zeros(1)
    return float(smile_nm) * (u**2 - np.mean(u**2))


def _smooth_curve(n: int, n_modes: int, rng: np.random.Generator) -> np.ndarray:
    """A random smooth curve over ``n`` samples: cosine modes 1..n_modes with N(0, 1/k) amplitudes and random phases."""
    t = np.linspace(0.0, 1.0, n)
    curve = np.zeros(n)
    for k in range(1, n_modes + 1):
        curve += rng.normal(0.0, 1.0 / k) * np.cos(math.pi * k * t + rng.uniform(0.0, 2.0 * math.pi))
    return curve


def column_gain(
    n_col: int, n_band: int, *, random_sigma: float, smooth_sigma: float, rng: np.random.Generator
) -> np.ndarray:
    """Per-(column, band) gain ``1 + smooth + random`` (see the module docstring).

    Returns (n_col, n_band) float64. The smooth part's RMS over all (column, band) is exactly ``smooth_sigma``; the
    random part is i.i.d. N(0, ``random_sigma``).
    """
    smooth = np.outer(_smooth_curve(n_col, 4, rng), _smooth_curve(n_band, 3, rng))
    rms = float(np.sqrt(np.mean(smooth**2)))
    smooth = smooth * (smooth_sigma / rms) if rms > 0 else np.zeros_like(smooth)
    random = rng.normal(0.0, 1.0, (n_col, n_band)) * random_sigma
    return 1.0 + smooth + random


def shift_nodes(
    shift_nm: np.ndarray, *, node_step_nm: float = NODE_STEP_NM
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nodes spanning the shifts at most ``node_step_nm`` apart, and each shift's bracketing node and fraction.

    Returns (nodes (n_node,), node_index (n,), node_frac (n,)); a constant shift gives a single node (index 0,
    fraction 0) so no interpolation happens.
    """
    shift = np.asarray(shift_nm, dtype=np.float64)
    lo, hi = float(shift.min()), float(shift.max())
    if hi - lo <= 0.0:
        return np.array([lo]), np.zeros(shift.size, dtype=np.int64), np.zeros(shift.size, dtype=np.float32)
    n_node = int(math.ceil((hi - lo) / node_step_nm)) + 1
    nodes = np.linspace(lo, hi, n_node)
    index = np.clip(np.searchsorted(nodes, shift, side="right") - 1, 0, n_node - 2)
    frac = (shift - nodes[index]) / (nodes[index + 1] - nodes[index])
    return nodes, index.astype(np.int64), np.clip(frac, 0.0, 1.0).astype(np.float32)


def column_model(n_col: int, n_band: int, effects: ColumnEffects, *, seed: int | None) -> ColumnModel:
    """The column effects of a scene with ``n_col`` columns and ``n_band`` bands, drawn from ``(seed, 2)``."""
    _validate(effects)
    rng = np.random.default_rng([0 if seed is None else int(seed), 2])
    shift = smile_profile_nm(n_col, effects.smile_nm)
    gain = column_gain(
        n_col, n_band, random_sigma=effects.gain_random_sigma, smooth_sigma=effects.gain_smooth_sigma, rng=rng
    )
    nodes, index, frac = shift_nodes(shift)
    return ColumnModel(shift, gain.astype(np.float32), nodes, index, frac, effects)
