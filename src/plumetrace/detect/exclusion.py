"""Pixels an analyst keeps out of the background statistics, from polygons drawn in longitude/latitude.

The matched filter measures each pixel against the scene's own background. A plume inside that background pulls
its mean toward the target, and every estimate comes out low by the plume's mean over the statistics pixels — an
offset no estimate from the scene alone can find when the plume's faint tail spreads over thousands of pixels
(docs/design/bias_sources.md). An analyst who knows where the plume lies (a facility and the wind) can draw
that region; the statistics then come from the rest of the scene (:func:`plumetrace.detect.engine.detect_scene`,
``exclude``).
"""

from __future__ import annotations

import math
import os

import numpy as np
import xarray as xr

from plumetrace.errors import InvalidFileError, InvalidInputError

__all__ = ["exclusion_map", "downwind_sector"]


def exclusion_map(path: str | os.PathLike, scene: xr.Dataset) -> np.ndarray:
    """Pixels of ``scene`` whose centres lie inside the polygons of a GeoJSON or KML file.

    Parameters
    ----------
    path
        GeoJSON or KML polygons, longitude/latitude degrees (WGS84).
    scene
        A Scene with georeferencing: ``attrs["crs"]`` and ``attrs["transform"]``, or ``lat``/``lon`` coordinates.

    Returns
    -------
    ndarray (y, x) bool

    Raises
    ------
    InvalidInputError
        The scene has no georeferencing to place the polygons on.
    InvalidFileError
        An unreadable file, a geometry that is not a valid polygon, or polygons that cover no pixel of the scene or
        all of them.
    """
    import shapely

    from plumetrace.io.vector import read_polygons
    from plumetrace.pixel_geometry import pixel_geometry

    polygons = read_polygons(path)
    geometry = pixel_geometry(scene, pixel_size_m=1.0)  # only its georeferencing is used here
    if not geometry.georeferenced:
        raise InvalidInputError(
            "exclude", f"{os.fspath(path)}: the scene has no georeferencing (crs + transform, or lat/lon)"
        )
    n_row, n_col = scene.sizes["y"], scene.sizes["x"]
    rows, cols = np.indices((n_row, n_col))
    lonlat = geometry.lonlat(rows, cols)
    assert lonlat is not None  # georeferenced
    inside = np.asarray(shapely.contains_xy(shapely.union_all(polygons), lonlat[0], lonlat[1]), dtype=bool)
    if not inside.any():
        raise InvalidFileError(path, "features", "the polygons cover no pixel of the scene")
    if inside.all():
        raise InvalidFileError(
            path, "features", "the polygons cover every pixel of the scene: nothing is left for the statistics"
        )
    return inside


def downwind_sector(
    shape: tuple[int, int],
    source_yx: tuple[float, float],
    wind_from_deg: float,
    *,
    half_angle_deg: float = 30.0,
    disc_px: float = 10.0,
) -> np.ndarray:
    """Pixels of a north-up grid (rows southward) within ``half_angle_deg`` of the downwind direction from the source,
    out to the edge, or within ``disc_px`` of the source: the region an analyst draws from a facility and a wind
    reading (wind blowing *from* ``wind_from_deg``, clockwise from north). Returns (y, x) bool."""
    rows, cols = np.indices(shape, dtype=np.float64)
    toward = math.radians(wind_from_deg + 180.0)
    d_row, d_col = -math.cos(toward), math.sin(toward)
    dr, dc = rows - source_yx[0], cols - source_yx[1]
    distance = np.hypot(dr, dc)
    along = dr * d_row + dc * d_col
    in_cone = along >= distance * math.cos(math.radians(half_angle_deg))
    return (distance <= disc_px) | ((along > 0) & in_cone)
