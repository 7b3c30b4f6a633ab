"""Background concentration and sensor noise from an in-situ log.

Two estimators, both robust to the plume hits that sit on top of the background:

``"quantile"``  one background for the whole log: a low quantile of all concentrations.
``"rolling"``   a slowly drifting background: a rolling low quantile over a time window (for long logs
                 where the ambient level drifts), centred on each sample.

The noise is the robust (MAD) spread of the samples at or below the median (mostly plume-free): the
median distance of those samples to the median, times 1.4826.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy.special import ndtri

from plumetrace.errors import InvalidInputError

__all__ = ["Background", "estimate_background"]


@dataclass(frozen=True)
class Background:
    """Background per observation row and the sensor noise.

    Attributes
    ----------
    level_mg_m3 : ndarray (N,)
        Background concentration under each sample (mg m⁻³).
    noise_mg_m3 : float
        One-sigma noise of a plume-free sample (mg m⁻³).
    method : str
    """

    level_mg_m3: NDArray
    noise_mg_m3: float
    method: str


def estimate_background(
    concentration_mg_m3: NDArray,
    *,
    time: pd.Series | NDArray | None = None,
    method: str = "quantile",
    quantile: float = 0.1,
    window_s: float = 600.0,
    given_mg_m3: float | None = None,
) -> Background:
    """Estimate the background under each sample and the noise of plume-free samples.

    Parameters
    ----------
    concentration_mg_m3 : array (N,)
    time : datetimes (N,), needed for ``method="rolling"``.
    method : ``"quantile"``, ``"rolling"`` or ``"given"`` (then ``given_mg_m3`` is the level).
    quantile : the low quantile taken as background, in (0, 0.5].
    window_s : rolling window length (s).
    given_mg_m3 : a known background level (mg m⁻³).

    Returns
    -------
    Background
    """
    c = np.asarray(concentration_mg_m3, dtype=float)
    if c.ndim != 1 or c.size == 0:
        raise InvalidInputError("concentration_mg_m3", "need a non-empty 1-D array")
    if not 0 < quantile <= 0.5:
        raise InvalidInputError("quantile", "must lie in (0, 0.5]")
    if given_mg_m3 is not None:
        method = "given"
    if method == "given":
        if given_mg_m3 is None or not np.isfinite(given_mg_m3):
            raise InvalidInputError("background_mg_m3", f"a finite value is needed, got {given_mg_m3!r}")
        if given_mg_m3 < 0:
            raise InvalidInputError("background_mg_m3", f"a concentration is >= 0 mg/m³, got {given_mg_m3:g}")
        level = np.full(c.size, float(given_mg_m3))
    elif method == "quantile":
        level = np.full(c.size, float(np.quantile(c, quantile)))
    elif method == "rolling":
        if time is None:
            raise InvalidInputError("time", "method='rolling' needs sample times")
        if window_s <= 0:
            raise InvalidInputError("window_s", "must be positive")
        s = pd.Series(c, index=pd.DatetimeIndex(pd.to_datetime(np.asarray(time), utc=True)))
        level = s.rolling(pd.Timedelta(seconds=window_s), center=True, min_periods=1).quantile(quantile).to_numpy()
    else:
        raise InvalidInputError("method", f"unknown background method {method!r}; use quantile, rolling or given")
    resid = c - level
    med = float(np.median(resid))
    low = resid[resid <= med]  # plume-free side: its distances to the median are half-normal
    noise = 1.4826 * float(np.median(med - low)) if low.size else 0.0
    # When most samples are in the plume (open-path beams, a drone inside the plume) the lower half is not
    # plume-free. The lowest tail still is: the spread between the q/2 and q quantiles of the residuals, read as a
    # Gaussian's, is exact when every sample is plume-free and over-estimates σ by at most ~2.5 (q = 0.1) when only
    # a small fraction is; take the smaller of the two estimates.
    qq = min(quantile, 0.25)
    tail = np.quantile(resid, [qq / 2, qq])
    spread = float(ndtri(qq) - ndtri(qq / 2))
    noise_tail = float(tail[1] - tail[0]) / spread
    if c.size >= 20 and noise_tail > 0:
        noise = min(noise, noise_tail) if noise > 0 else noise_tail
    return Background(level_mg_m3=level, noise_mg_m3=noise, method=method)
