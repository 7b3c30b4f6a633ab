"""Map furniture for the PNG quicklooks: a fixed page layout, map axes, scale bar and north arrow (matplotlib).

Every plumetrace map PNG uses the same page: :data:`PAGE_INCHES` at :data:`DPI` (900 × 700 pixels), the map in a fixed
box with equal aspect (one km is as long east as north), a colour bar to its right, and a strip below the map that
holds the scale bar, the north arrow and any text, so that nothing is drawn over the data. Figures are plain
:class:`matplotlib.figure.Figure` objects (no pyplot state, no GUI backend) saved without ``bbox_inches="tight"``.

A grid is drawn in its CRS units: kilometres of easting / northing for a projected CRS, degrees for a geographic one
(the aspect then corrected by the cosine of the latitude). A grid without georeferencing is drawn in pixels, with
no scale bar and no north arrow.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = [
    "DPI",
    "PAGE_INCHES",
    "MapFrame",
    "add_north_arrow",
    "add_scale_bar",
    "grid_frame",
    "map_page",
    "save_page",
]

#: Size of every map PNG, inches, and its resolution (900 × 700 pixels).
PAGE_INCHES = (9.0, 7.0)
DPI = 100
#: Figure-fraction boxes (left, bottom, width, height) of the map, its colour bar and the strip below.
MAP_BOX = (0.09, 0.22, 0.70, 0.70)
COLORBAR_BOX = (0.86, 0.22, 0.022, 0.70)
_STRIP_Y = 0.05


class MapFrame:
    """How a raster grid is placed on map axes.

    Attributes
    ----------
    extent : (left, right, bottom, top)
        The grid's outer edges in plot units (for ``imshow(extent=...)``).
    xlabel, ylabel : str
    metres_per_unit : (east, north) or None
        Ground metres per plot unit along x and y; None when the grid is not on Earth.
    north_deg : float
        Direction of north on the page, degrees clockwise from up (0 for a north-up grid).
    to_plot : callable
        (rows, cols) -> (x, y) in plot units, for pixel positions (pixel centres at row + 0.5).
    """

    def __init__(self, extent, xlabel, ylabel, metres_per_unit, north_deg, to_plot) -> None:
        self.extent = extent
        self.xlabel, self.ylabel = xlabel, ylabel
        self.metres_per_unit = metres_per_unit
        self.north_deg = north_deg
        self.to_plot = to_plot


def grid_frame(shape: tuple[int, int], crs: Any = None, transform: Sequence[float] | None = None) -> MapFrame:
    """The :class:`MapFrame` of a (rows, cols) grid with an optional CRS and affine transform (rasterio order).

    A north-up grid in a projected CRS is drawn in km of easting / northing, in a geographic CRS in degrees; a rotated
    grid is drawn in its own rows and columns scaled to km, with the north arrow turned accordingly.
    """
    rows, cols = shape
    if crs is None or transform is None:

        def pixels(r, c):
            return np.asarray(c, dtype=float), np.asarray(r, dtype=float)

        return MapFrame((0.0, float(cols), float(rows), 0.0), "column", "row", None, 0.0, pixels)
    from pyproj import CRS

    a, b, c, d, e, f = (float(v) for v in transform[:6])
    parsed = CRS.from_user_input(crs)
    geographic = parsed.is_geographic
    if geographic:
        from plumetrace.georef import metres_per_degree

        east_m, north_m = metres_per_degree(f + e * rows / 2 + d * cols / 2)
        scale, unit = (float(east_m), float(north_m)), "°"
    else:
        factor = parsed.axis_info[0].unit_conversion_factor if parsed.axis_info else 1.0
        scale, unit = (1000.0, 1000.0), "km"
        a, b, c, d, e, f = (v * factor / 1000.0 for v in (a, b, c, d, e, f))
    if b == 0.0 and d == 0.0:

        def north_up(r, col):
            return c + a * np.asarray(col, dtype=float), f + e * np.asarray(r, dtype=float)

        extent = (c, c + a * cols, f + e * rows, f)
        names = ("longitude (°)", "latitude (°)") if geographic else ("easting (km)", "northing (km)")
        return MapFrame(extent, *names, scale, 0.0, north_up)
    # rotated grid: columns and rows at their ground size; north is where +y of the CRS points
    size_col, size_row = math.hypot(a, d), math.hypot(b, e)
    det = a * e - b * d
    # map direction (0, 1) in grid units (col, row), then on the page (x right, y up: row axis flipped)
    dcol, drow = -b / det, a / det
    north = math.degrees(math.atan2(dcol * size_col, -drow * size_row))
    metres = scale[0]

    def rotated(r, col):
        return np.asarray(col, dtype=float) * size_col, np.asarray(r, dtype=float) * size_row

    label = unit if not geographic else "° (grid)"
    return MapFrame(
        (0.0, cols * size_col, rows * size_row, 0.0),
        f"along columns ({label})",
        f"along rows ({label})",
        (metres, metres),
        north,
        rotated,
    )


def map_page(title: str = "") -> tuple[Any, Any, Any]:
    """A fixed page: (figure, map axes, colour-bar axes); the title sits above the map."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=PAGE_INCHES, dpi=DPI)
    ax = fig.add_axes(MAP_BOX)
    cax = fig.add_axes(COLORBAR_BOX)
    if title:
        fig.text(0.5, 0.975, title, ha="center", va="top", fontsize=11, wrap=True)
    return fig, ax, cax


def _finish_axes(ax: Any, frame: MapFrame | None, aspect: float) -> None:
    if frame is not None:
        ax.set_xlabel(frame.xlabel)
        ax.set_ylabel(frame.ylabel)
    ax.set_aspect(aspect, adjustable="box", anchor="C")
    for axis in (ax.xaxis, ax.yaxis):
        formatter = axis.get_major_formatter()
        if hasattr(formatter, "set_useOffset"):
            formatter.set_useOffset(False)  # plain coordinates: no "+4.0e3" offset label
            formatter.set_scientific(False)
    ax.tick_params(labelsize=9)
    ax.apply_aspect()


def map_aspect(frame: MapFrame) -> float:
    """The axes aspect that makes one ground metre as long east as north."""
    if frame.metres_per_unit is None:
        return 1.0
    east, north = frame.metres_per_unit
    return north / east


def _nice_length(limit_m: float) -> float:
    """The largest 1, 2 or 5 × 10ⁿ metres not above ``limit_m``."""
    if limit_m <= 0:
        return 0.0
    power = 10.0 ** math.floor(math.log10(limit_m))
    return max(m * power for m in (1.0, 2.0, 5.0) if m * power <= limit_m)


def add_scale_bar(fig: Any, ax: Any, metres_per_unit_x: float) -> float:
    """Draw a scale bar in the strip below the map (left); return its length, metres.

    The bar is about a quarter of the map's width, rounded to 1, 2 or 5 × 10ⁿ m, drawn at the map's own scale.
    """
    ax.apply_aspect()
    box = ax.get_position()
    x0, x1 = ax.get_xlim()
    metres_per_fig = abs(x1 - x0) * metres_per_unit_x / box.width
    length = _nice_length(0.25 * box.width * metres_per_fig)
    if length <= 0:
        return 0.0
    width = length / metres_per_fig
    bar = fig.add_axes((box.x0, _STRIP_Y + 0.02, width, 0.012))
    bar.set_axis_off()
    bar.set_xlim(0, 4)
    bar.set_ylim(0, 1)
    for k in range(4):  # alternating black and white quarters, the way printed maps draw it
        bar.fill_between([k, k + 1], 0, 1, color="black" if k % 2 == 0 else "white", ec="black", lw=0.8)
    text = f"{length / 1000:g} km" if length >= 1000 else f"{length:g} m"
    fig.text(box.x0 + width / 2, _STRIP_Y + 0.04, text, ha="center", va="bottom", fontsize=9)
    fig.text(box.x0, _STRIP_Y + 0.005, "0", ha="center", va="bottom", fontsize=8)
    return length


def add_north_arrow(fig: Any, ax: Any, north_deg: float = 0.0) -> None:
    """Draw a north arrow in the strip below the map (right), pointing ``north_deg`` clockwise from up."""
    ax.apply_aspect()
    box = ax.get_position()
    size = 0.09
    arrow = fig.add_axes((box.x1 - size * PAGE_INCHES[1] / PAGE_INCHES[0], _STRIP_Y - 0.01, size * 0.7, size * 0.9))
    arrow.set_axis_off()
    arrow.set_xlim(-1, 1)
    arrow.set_ylim(-1, 1)
    angle = math.radians(north_deg)
    dx, dy = 0.75 * math.sin(angle), 0.75 * math.cos(angle)
    arrow.annotate("", xy=(dx, dy), xytext=(-dx, -dy), arrowprops={"arrowstyle": "-|>", "color": "black", "lw": 1.6})
    arrow.text(1.1 * dx, 1.1 * dy, "N", ha="center", va="bottom" if dy >= 0 else "top", fontsize=10, weight="bold")


def save_page(
    fig: Any, ax: Any, frame: MapFrame | None, path: Any, *, aspect: float | None = None, cax: Any = None
) -> None:
    """Finish the map axes (labels, aspect, plain ticks), add scale bar and north arrow when on Earth, save the PNG.

    ``cax`` (the colour-bar axes of :func:`map_page`) is moved beside the map and given its height.
    """
    _finish_axes(ax, frame, aspect if aspect is not None else (map_aspect(frame) if frame else 1.0))
    if cax is not None:
        box = ax.get_position()
        cax.set_position((min(box.x1 + 0.03, 0.88), box.y0, COLORBAR_BOX[2], box.height))
    if frame is not None and frame.metres_per_unit is not None:
        add_scale_bar(fig, ax, frame.metres_per_unit[0])
        add_north_arrow(fig, ax, frame.north_deg)
    fig.savefig(path, format="png", dpi=DPI)
