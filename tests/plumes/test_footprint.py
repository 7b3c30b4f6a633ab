"""A scene's footprint: valid-pixel polygon, noise, detection limit, wind sampled at the scene centre."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from shapely.geometry import shape

from plumetrace.pixel_geometry import pixel_geometry
from plumetrace.plumes.detection_limit import detection_limit_kg_h
from plumetrace.plumes.footprint import FOOTPRINT_FIELDS, scene_footprint
from plumetrace.plumes.wind import Wind


def _map(valid_cols: int | None = None, *, georeferenced: bool = True) -> xr.Dataset:
    values = np.random.default_rng(0).normal(0.0, 100.0, (40, 50)).astype(np.float32)
    if valid_cols is not None:
        values[:, valid_cols:] = np.nan
    attrs = {"sensor": "emit", "gas": "ch4", "acquisition_time": "2026-06-21T18:30:00Z"}
    if georeferenced:  # 60 m UTM pixels, zone 13N
        attrs.update(crs="EPSG:32613", transform=[60.0, 0.0, 500000.0, 0.0, -60.0, 3500000.0])
    else:
        attrs["pixel_size_m"] = 60.0
    uncertainty = np.full(values.shape, 250.0, np.float32)
    return xr.Dataset(
        {"enhancement": (("y", "x"), values, {"units": "ppm m"}), "uncertainty": (("y", "x"), uncertainty)},
        attrs=attrs,
    )


def test_footprint_covers_the_valid_pixels_and_states_the_limit():
    ds = _map(valid_cols=25)
    feature = scene_footprint(ds, pixel_geometry(ds), Wind(4.0, 90.0, 1.0), scene_id="s1", n_plumes=0)
    props = feature["properties"]
    assert set(props) == set(FOOTPRINT_FIELDS)
    assert props["valid_fraction"] == pytest.approx(0.5)
    assert props["median_sigma_ppm_m"] == pytest.approx(250.0)
    expected = detection_limit_kg_h(wind_speed_m_s=4.0, sigma_ppm_m=250.0, pixel_size_m=60.0)
    assert props["detection_limit_kg_h"] == pytest.approx(expected)
    polygon = shape(feature["geometry"])
    # 40 rows x 25 columns of 60 m pixels in lon/lat near 31.6 N: compare the area in degrees² with the
    # projected corners' area
    from pyproj import Transformer

    to_lonlat = Transformer.from_crs("EPSG:32613", "EPSG:4326", always_xy=True)
    xs, ys = [500000.0, 501500.0, 501500.0, 500000.0], [3500000.0, 3500000.0, 3497600.0, 3497600.0]
    corners = shape({"type": "Polygon", "coordinates": [list(zip(*to_lonlat.transform(xs, ys)))]})
    assert polygon.symmetric_difference(corners).area < 0.01 * corners.area


def test_wind_provider_is_sampled_at_the_scene_centre():
    ds = _map()
    seen = []

    def provider(lat, lon, time):
        seen.append((lat, lon, time))
        return Wind(2.0, 0.0, 0.5)

    feature = scene_footprint(ds, pixel_geometry(ds), provider, scene_id="s1", n_plumes=2)
    ((lat, lon, time),) = seen
    assert 31.5 < lat < 31.7 and -105.0 < lon < -104.9
    assert time == "2026-06-21T18:30:00Z"
    assert feature["properties"]["wind_speed_m_s"] == 2.0 and feature["properties"]["n_plumes"] == 2


def test_map_without_georeferencing_has_no_geometry():
    ds = _map(georeferenced=False)
    feature = scene_footprint(ds, pixel_geometry(ds), Wind(3.0, 0.0, 1.0), scene_id="s1", n_plumes=0)
    assert feature["geometry"] is None
    assert np.isfinite(feature["properties"]["detection_limit_kg_h"])
