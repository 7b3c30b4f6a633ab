"""Source map of the inversion: the candidate source positions (a uniform prior on a grid, or a known point).

A :class:`SourceGrid` holds cell centres along east and north and the candidate release heights; its sources are
ordered (height, north, east), the order of the posterior arrays. A known source is a grid of one cell with step 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import logsumexp
from shapely.geometry import Polygon, box
from shapely.ops import unary_union

from plumetrace.errors import InvalidInputError
from plumetrace.insitu.observations import Observations

__all__ = ["SourceGrid", "credible_region", "default_box"]

#: Cells per side of a default grid (box size / 40) and of the zoomed grid.
CELLS_PER_SIDE = 40
#: Posterior mass the zoom keeps (plus one cell around it).
ZOOM_MASS = 0.999


def default_box(observations: Observations) -> tuple[float, float, float, float]:
    """``(xmin, xmax, ymin, ymax)`` (m): the sampled area padded by max(100 m, half its size)."""
    x, y = observations.position_xyz_m[:, 0], observations.position_xyz_m[:, 1]
    pad = max(100.0, 0.5 * max(np.ptp(x), np.ptp(y)))
    return float(x.min() - pad), float(x.max() + pad), float(y.min() - pad), float(y.max() + pad)


@dataclass(frozen=True)
class SourceGrid:
    """Candidate source positions: cell centres ``east_m`` (nx,), ``north_m`` (ny,), ``heights_m`` (nh,).

    ``step_m`` is the cell size (m); 0 for a single known position.
    """

    east_m: NDArray
    north_m: NDArray
    heights_m: NDArray
    step_m: float

    @classmethod
    def known(cls, east_m: float, north_m: float, *, heights_m: Sequence[float]) -> SourceGrid:
        """A single known position (only the rate, the background and the nuisances are then estimated)."""
        return cls(np.array([float(east_m)]), np.array([float(north_m)]), np.asarray(heights_m, dtype=float), 0.0)

    @classmethod
    def from_box(cls, box_m: Sequence[float], *, heights_m: Sequence[float], step_m: float | None = None) -> SourceGrid:
        """Cells of ``step_m`` (default: box size / 40) over ``box_m`` = (xmin, xmax, ymin, ymax) (m)."""
        xmin, xmax, ymin, ymax = box_m
        if not (xmax > xmin and ymax > ymin):
            raise InvalidInputError("prior_box", "need xmin < xmax and ymin < ymax")
        step = step_m or max(xmax - xmin, ymax - ymin) / CELLS_PER_SIDE
        return cls(
            np.arange(xmin + step / 2, xmax, step),
            np.arange(ymin + step / 2, ymax, step),
            np.asarray(heights_m, dtype=float),
            step,
        )

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(nh, ny, nx)``."""
        return self.heights_m.size, self.north_m.size, self.east_m.size

    def sources_xyz_m(self) -> NDArray:
        """All candidates (nh·ny·nx, 3): east, north, release height (m), ordered (height, north, east)."""
        heights, north, east = np.meshgrid(self.heights_m, self.north_m, self.east_m, indexing="ij")
        return np.column_stack([east.ravel(), north.ravel(), heights.ravel()])

    def position_map(self, log_posterior: NDArray) -> NDArray:
        """Posterior probability per (north, east) cell (ny, nx), from log posterior (K, nh·ny·nx) over any
        nuisance axis K, normalised to 1 and summed over heights."""
        cells = np.exp(logsumexp(log_posterior, axis=0) - logsumexp(log_posterior))
        return cells.reshape(self.shape).sum(0)

    def zoom(self, log_posterior: NDArray) -> SourceGrid:
        """A finer grid over the cells holding 99.9 % of the mass plus one cell around them.

        The new step is max(step / 4, span / 40); when that is not finer, the grid is kept.
        """
        cell = self.position_map(log_posterior)
        order = np.argsort(cell.ravel())[::-1]
        n_keep = int(np.searchsorted(np.cumsum(cell.ravel()[order]), ZOOM_MASS) + 1)
        iy, ix = np.unravel_index(order[:n_keep], cell.shape)
        step = self.step_m
        x0, x1 = self.east_m[ix.min()] - 1.5 * step, self.east_m[ix.max()] + 1.5 * step
        y0, y1 = self.north_m[iy.min()] - 1.5 * step, self.north_m[iy.max()] + 1.5 * step
        fine = max(step / 4.0, max(x1 - x0, y1 - y0) / CELLS_PER_SIDE)
        if fine >= step:
            return self
        return SourceGrid(np.arange(x0 + fine / 2, x1, fine), np.arange(y0 + fine / 2, y1, fine), self.heights_m, fine)


def credible_region(posterior: NDArray, grid: SourceGrid, *, level: float = 0.95) -> Polygon:
    """Union of the highest-posterior cells of ``posterior`` (ny, nx) on ``grid`` holding ``level`` of the mass."""
    flat = posterior.ravel()
    order = np.argsort(flat)[::-1]
    cum = np.cumsum(flat[order])
    n = int(np.searchsorted(cum, level * cum[-1]) + 1)
    iy, ix = np.unravel_index(order[:n], posterior.shape)
    half = grid.step_m / 2
    cells = [
        box(grid.east_m[i] - half, grid.north_m[j] - half, grid.east_m[i] + half, grid.north_m[j] + half)
        for j, i in zip(iy, ix)
    ]
    return unary_union(cells)
