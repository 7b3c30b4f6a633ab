"""A scene's footprint: where it looked, when, and the smallest emission it could see there.

Every scene of a campaign is evidence, including the ones where nothing was found: a site's persistence counts the
overpasses that could have seen it (docs/sites.md). The footprint records the polygon of the map's valid pixels
(lon/lat), the acquisition time, the sensor and gas, the map's median per-pixel 1σ and the emission rate found with
90 % probability at the scene's wind (:mod:`plumetrace.plumes.detection_limit`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import xarray as xr

from plumetrace.pixel_geometry import PixelGeometry
from plumetrace.plumes.detection_limit import detection_limit_kg_h
from plumetrace.plumes.wind import Wind

__all__ = ["FOOTPRINT_FIELDS", "scene_footprint"]

#: The properties of ``footprint.geojson`` (docs/run.md).
FOOTPRINT_FIELDS = (
    "scene_id",
    "sensor",
    "gas",
    "time",
    "pixel_size_m",
    "median_sigma_ppm_m",
    "wind_speed_m_s",
    "detection_limit_kg_h",
    "n_plumes",
    "valid_fraction",
)

#: Thermal-infrared imagers: their detection depends on the thermal contrast, which the POD law does not describe.
THERMAL_SENSORS = frozenset({"hytes"})

_SIMPLIFY_PX = 1.0  # outline tolerance, pixels: a footprint is a coverage statement, not a pixel mask


def _valid_outline(valid: np.ndarray, geometry: PixelGeometry) -> dict[str, Any] | None:
    """GeoJSON (Multi)Polygon, lon/lat degrees, of the valid pixels; None when the map is not georeferenced."""
    if not geometry.georeferenced or not valid.any():
        return None
    import shapely
    from rasterio.features import shapes
    from shapely.geometry import mapping, shape
    from shapely.ops import unary_union

    pieces = [shape(geom) for geom, value in shapes(valid.astype(np.uint8), mask=valid) if value == 1]
    outline = unary_union(pieces).simplify(_SIMPLIFY_PX, preserve_topology=True)

    def to_lonlat(col: np.ndarray, row: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # shapes() gives pixel-corner coordinates (x = col, y = row); lonlat() takes pixel indices of centres
        return geometry.lonlat(row - 0.5, col - 0.5)  # type: ignore[return-value]

    return mapping(shapely.transform(outline, to_lonlat, interleaved=False))


def _median_sigma_ppm_m(ds: xr.Dataset, valid: np.ndarray) -> float:
    """Median per-pixel 1σ (ppm·m) over the valid pixels: the map's uncertainty layer, else 1.4826 × MAD."""
    if "uncertainty" in ds and ds["uncertainty"].shape == valid.shape:
        sigma = np.asarray(ds["uncertainty"].values, dtype=np.float64)[valid]
        sigma = sigma[np.isfinite(sigma) & (sigma > 0)]
        if sigma.size:
            return float(np.median(sigma))
    values = np.asarray(ds["enhancement"].values, dtype=np.float64)[valid]
    return float(1.4826 * np.median(np.abs(values - np.median(values)))) if values.size else math.nan


def scene_footprint(
    ds: xr.Dataset,
    geometry: PixelGeometry,
    wind: Wind | Any,
    *,
    scene_id: str,
    n_plumes: int,
    sensor: str | None = None,
    gas: str | None = None,
) -> dict[str, Any]:
    """The footprint of one enhancement map as a GeoJSON Feature (properties :data:`FOOTPRINT_FIELDS`).

    Parameters
    ----------
    ds : Dataset
        The enhancement map as :func:`plumetrace.plumes.pipeline.analyze_plumes` read it (``enhancement``
        (y, x) in ppm·m, optional ``uncertainty``; attrs ``sensor``, ``gas``, ``acquisition_time``).
    geometry : PixelGeometry
        Its pixel geometry (``PlumeResult.geometry``).
    wind : Wind or callable
        The wind given to the plumes stage: a :class:`Wind`, or a provider ``(lat, lon, time) -> Wind`` sampled at
        the scene's centre.
    scene_id : str, keyword-only
        The scene's id (file stem or STAC item id).
    n_plumes : int, keyword-only
        Plumes found in the map.
    sensor, gas : str, optional, keyword-only
        Overrides of the map's tags (as given to the plumes stage).

    Returns
    -------
    dict
        ``{"type": "Feature", "geometry": ..., "properties": {...}}``; geometry None without georeferencing; the
        detection limit is NaN where the map has no valid pixel.
    """
    values = np.asarray(ds["enhancement"].values, dtype=np.float64)
    valid = np.isfinite(values)
    sensor = str(sensor or ds.attrs.get("sensor") or "generic").lower()
    gas = str(gas or ds.attrs.get("gas") or "ch4").lower()
    time = ds.attrs.get("acquisition_time")
    sigma = _median_sigma_ppm_m(ds, valid)
    if not isinstance(wind, Wind):
        centre = geometry.lonlat((values.shape[0] - 1) / 2.0, (values.shape[1] - 1) / 2.0)
        lon, lat = (float(centre[0]), float(centre[1])) if centre is not None else (None, None)
        wind = wind(lat, lon, time)
    limit = math.nan  # the POD law is measured on SWIR methane maps; a thermal-infrared map's limit is not stated
    if np.isfinite(sigma) and sigma > 0 and sensor not in THERMAL_SENSORS:
        limit = detection_limit_kg_h(
            wind_speed_m_s=wind.speed_m_s, sigma_ppm_m=sigma, pixel_size_m=geometry.pixel_size_m, gas=gas
        )
    properties = {
        "scene_id": scene_id,
        "sensor": sensor,
        "gas": gas,
        "time": str(time) if time else None,
        "pixel_size_m": float(geometry.pixel_size_m),
        "median_sigma_ppm_m": sigma,
        "wind_speed_m_s": float(wind.speed_m_s),
        "detection_limit_kg_h": limit,
        "n_plumes": int(n_plumes),
        "valid_fraction": float(valid.mean()) if valid.size else 0.0,
    }
    return {"type": "Feature", "geometry": _valid_outline(valid, geometry), "properties": properties}
