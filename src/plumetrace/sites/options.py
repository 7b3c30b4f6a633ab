"""Options of the site fusion (frozen, each field checked when built)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from plumetrace.errors import InvalidInputError

__all__ = ["SiteOptions"]


@dataclass(frozen=True)
class SiteOptions:
    """How detections are associated into sites and how site statistics are computed.

    Parameters
    ----------
    gate_probability : float
        Two detections (or sites) are the same place when the squared Mahalanobis distance of their positions,
        with their combined 1σ, is at most the chi-square quantile of 2 degrees of freedom at this probability
        (0.95 → 5.99, i.e. 2.45 combined σ along one axis).
    floor_pixels : float
        Floor of each detection's position 1σ along each axis, in pixels of its product (a source's stated σ can be
        far smaller than a pixel, its geolocation cannot; for an in-situ product the pixel is its grid step).
    min_sigma_m : float
        Floor of any position 1σ, m (for products that report none smaller than a numerical zero).
    n_draws : int
        Monte Carlo draws of the rate and persistence intervals.
    seed : int
        Seed of those draws (results are reproducible).
    """

    gate_probability: float = 0.95
    floor_pixels: float = 1.0
    min_sigma_m: float = 1.0
    n_draws: int = 4000
    seed: int = 0

    def __post_init__(self) -> None:
        if not 0.5 <= self.gate_probability < 1:
            raise InvalidInputError("gate_probability", f"{self.gate_probability:g} must lie in [0.5, 1)")
        if not (math.isfinite(self.floor_pixels) and 0 <= self.floor_pixels <= 10):
            raise InvalidInputError("floor_pixels", f"{self.floor_pixels:g} must lie in 0-10 pixels")
        if not (math.isfinite(self.min_sigma_m) and 0 < self.min_sigma_m <= 1000):
            raise InvalidInputError("min_sigma_m", f"{self.min_sigma_m:g} must lie in (0, 1000] m")
        if not (isinstance(self.n_draws, int) and 200 <= self.n_draws <= 1_000_000):
            raise InvalidInputError("n_draws", f"{self.n_draws!r} must be an integer in 200-1000000")
        if not (isinstance(self.seed, int) and self.seed >= 0):
            raise InvalidInputError("seed", f"{self.seed!r} must be a non-negative integer")

    @property
    def gate_d2(self) -> float:
        """The gate on the squared Mahalanobis distance (chi-square, 2 degrees of freedom)."""
        return -2.0 * math.log(1.0 - self.gate_probability)  # chi2.ppf(p, 2) in closed form
