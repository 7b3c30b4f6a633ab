from __future__ import annotations

import math

import numpy as np
import pytest

from plumetrace.errors import InvalidInputError
from plumetrace.plumes.pipeline import RECORD_FIELDS, analyze_plumes
from plumetrace.plumes.quantify import UeffCalibration
from plumetrace.plumes.wind import Wind, wind_from_options

UTM_11N = "EPSG:32611"
EXACT = UeffCalibration(1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 30.0, "test: U_eff = U10")


def test_analytic_plume_rate_source_and_position(plume_map):
    ds, truth = plume_map(rate_kg_h=1500.0, wind_speed_m_s=4.0, noise_ppm_m=30.0)
    ds.attrs.update(crs=UTM_11N, transform=[30.0, 0.0, 500000.0, 0.0, -30.0, 4000000.0])
    result = analyze_plumes(ds, wind=wind_from_options(4.0, 270.0, speed_sigma_m_s=0.4), calibration=EXACT)
    assert len(result.records) == 1
    rec = result.records[0]
    assert list(rec)[: len(RECORD_FIELDS)] == list(RECORD_FIELDS)
    # the CSF with U_eff = U recovers the analytic flux
    assert rec["emission_rate_csf_kg_h"] == pytest.approx(1500.0, rel=0.15)
    # the source pixel (40, 20) is found within 2 pixels, and its lon/lat is that pixel's
    assert math.hypot(rec["source_row"] - 40, rec["source_col"] - 20) <= 2.0
    from pyproj import Transformer

    lon, lat = Transformer.from_crs(UTM_11N, "EPSG:4326", always_xy=True).transform(
        500000.0 + (rec["source_col"] + 0.5) * 30.0, 4000000.0 - (rec["source_row"] + 0.5) * 30.0
    )
    assert rec["source_lon"] == pytest.approx(lon, abs=1e-7)
    assert rec["source_lat"] == pytest.approx(lat, abs=1e-7)
    # the 68 % interval brackets the central value and sigma reflects the 10 % wind error at least
    assert rec["emission_rate_p16_kg_h"] < rec["emission_rate_kg_h"] < rec["emission_rate_p84_kg_h"]
    assert rec["emission_rate_sigma_kg_h"] >= 0.09 * rec["emission_rate_kg_h"]
    assert result.outlines[0].geom_type in ("Polygon", "MultiPolygon")
    assert result.outlines[0].contains(__import__("shapely").geometry.Point(rec["source_lon"], rec["source_lat"]))


def test_wind_provider_is_sampled_at_the_source(plume_map):
    ds, _ = plume_map()
    ds.attrs.update(
        crs=UTM_11N, transform=[30.0, 0.0, 500000.0, 0.0, -30.0, 4000000.0], acquisition_time="2026-06-01T18:00:00Z"
    )
    calls = []

    def provider(lat, lon, time):
        calls.append((lat, lon, time))
        return Wind(4.0, 270.0, 0.4)

    result = analyze_plumes(ds, wind=provider)
    assert result.records and calls
    assert calls[-1][2] == "2026-06-01T18:00:00Z"
    assert calls[-1][0] == pytest.approx(result.records[0]["source_lat"])


def test_no_georeferencing_uses_pixel_size(plume_map):
    ds, _ = plume_map(pixel_size_m=30.0)
    del ds.attrs["pixel_size_m"]
    with pytest.raises(InvalidInputError, match="pixel size"):
        analyze_plumes(ds, wind=wind_from_options(4.0, 270.0))
    result = analyze_plumes(ds, wind=wind_from_options(4.0, 270.0), pixel_size_m=30.0, calibration=EXACT)
    assert result.records[0]["source_lat"] is None
    assert result.records[0]["emission_rate_csf_kg_h"] == pytest.approx(1500.0, rel=0.15)


def test_rate_scales_with_pixel_size_squared_over_length(plume_map):
    # the same map read at twice the pixel size holds 4x the mass over a 2x longer plume: Q doubles
    ds, _ = plume_map()
    q30 = analyze_plumes(ds, wind=wind_from_options(4.0, 270.0), pixel_size_m=30.0).records[0]["emission_rate_kg_h"]
    q60 = analyze_plumes(ds, wind=wind_from_options(4.0, 270.0), pixel_size_m=60.0).records[0]["emission_rate_kg_h"]
    assert q60 == pytest.approx(2 * q30, rel=1e-6)


def test_empty_map_is_refused():
    import xarray as xr

    ds = xr.Dataset({"enhancement": (("y", "x"), np.full((20, 20), np.nan))}, attrs={"pixel_size_m": 30.0})
    with pytest.raises(InvalidInputError, match="empty"):
        analyze_plumes(ds, wind=wind_from_options(3.0, 90.0))


def test_unknown_sensor_is_refused(plume_map):
    ds, _ = plume_map()
    with pytest.raises(InvalidInputError, match="sensor"):
        analyze_plumes(ds, wind=wind_from_options(3.0, 90.0), sensor="hubble")
