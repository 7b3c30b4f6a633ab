"""Other tools' maps give the rate plumetrace's own 4-band COG of the same map gives.

One simulated plume of known rate (analytic Gaussian plume, 1500 kg/h at 4 m/s, plus 30 ppm·m noise) on one grid is
written as plumetrace's detection COG and in each foreign layout; every layout must find the one plume with the
COG's IME rate within TOL = 0.5 % (float32 rounding of a unit conversion; the noise model differs — the COG carries
a 1σ band, a one-band map falls back to the robust background σ — which moves the σ, not the rate), and the COG's
rate must lie within 40 % of the truth (literature EMIT U_eff on an analytic plume).
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from plumetrace.io.cog import read_enhancement, write_enhancement
from plumetrace.plumes.pipeline import analyze_plumes
from plumetrace.plumes.wind import wind_from_options
from tests.io.emit_l2b_files import geographic_grid, write_emit_cog, write_emit_netcdf

TRUE_RATE_KG_H = 1500.0
TOL = 0.005  # relative: the rate from a foreign layout vs the one from plumetrace's own COG of the same map
SHAPE = (80, 120)
NOISE = 30.0
UTM = (60.0, 0.0, 5e5, 0.0, -60.0, 3.55e6)
WIND = wind_from_options(4.0, 270.0, speed_sigma_m_s=0.4)


@pytest.fixture(scope="module")
def plume():
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from plumes_analytic import gaussian_plume_ppm_m

    truth = gaussian_plume_ppm_m(
        SHAPE, source_rc=(40.0, 20.0), rate_kg_h=TRUE_RATE_KG_H, wind_speed_m_s=4.0, pixel_size_m=60.0
    )
    values = (truth + np.random.default_rng(3).normal(0.0, NOISE, SHAPE)).astype(np.float32)
    values[-3:, :40] = np.nan  # no data: written as each layout's fill value, read back as NaN
    return values


def _rate(data, **kwargs) -> float:
    result = analyze_plumes(data, wind=WIND, sensor="emit", **kwargs)
    assert len(result.records) == 1
    return result.records[0]["emission_rate_kg_h"]


def _own_cog_rate(tmp_path, values, crs, transform) -> float:
    ds = xr.Dataset(
        {
            "enhancement": (("y", "x"), values),
            "uncertainty": (("y", "x"), np.full(SHAPE, NOISE, np.float32)),
            "albedo": (("y", "x"), np.ones(SHAPE, np.float32)),
            "sensitivity": (("y", "x"), np.ones(SHAPE, np.float32)),
        },
        attrs={"gas": "ch4", "sensor": "emit", "crs": crs, "transform": list(transform)},
    )
    write_enhancement(ds, tmp_path / "own.tif")
    rate = _rate(read_enhancement(tmp_path / "own.tif"))
    assert rate == pytest.approx(TRUE_RATE_KG_H, rel=0.4)
    return rate


def _one_band(path, values, crs, transform, **tags):
    import rasterio
    from rasterio.transform import Affine

    with rasterio.open(
        path, "w", driver="GTiff", width=SHAPE[1], height=SHAPE[0], count=1, dtype="float32", crs=crs,
        transform=Affine(*transform), nodata=-9999.0,
    ) as dst:  # fmt: skip
        dst.write(np.where(np.isfinite(values), values, -9999.0).astype(np.float32)[None])
        dst.update_tags(**tags)
    return path


@pytest.mark.parametrize("units, scale", [("ppm m", 1.0), ("ppb m", 1000.0), (None, 1.0)])
def test_one_band_geotiff_with_and_without_unit_tags(tmp_path, plume, units, scale):
    reference = _own_cog_rate(tmp_path, plume, "EPSG:32613", UTM)
    tags = {"units": units} if units else {}
    path = _one_band(tmp_path / "one.tif", plume * scale, "EPSG:32613", UTM, **tags)
    data = read_enhancement(path, units=None if units else "ppm·m")
    assert _rate(data) == pytest.approx(reference, rel=TOL)
    assert analyze_plumes(data, wind=WIND, sensor="emit").noise_model == "background"


def test_emit_l2b_cog_and_netcdf(tmp_path, plume):
    transform = geographic_grid(SHAPE)
    reference = _own_cog_rate(tmp_path, plume, "EPSG:4326", transform)
    cog = write_emit_cog(tmp_path, plume, transform)
    assert _rate(read_enhancement(cog)) == pytest.approx(reference, rel=TOL)  # no sensor given: EMIT from the file
    write_emit_cog(tmp_path, np.full(SHAPE, NOISE, np.float32), transform, product="CH4UNCERT")
    assert _rate(read_enhancement(cog)) == pytest.approx(reference, rel=1e-6)  # same 1σ band as the COG: same rate
    netcdf = write_emit_netcdf(tmp_path / "EMIT_L2B_CH4ENH.nc", plume, transform)
    data = read_enhancement(netcdf)
    assert data.attrs["acquisition_time"] == "2023-08-05T19:54:59Z"
    assert _rate(data) == pytest.approx(reference, rel=TOL)


def test_rioxarray_dataarray(tmp_path, plume):
    import rioxarray

    reference = _own_cog_rate(tmp_path, plume, "EPSG:32613", UTM)
    path = _one_band(tmp_path / "one.tif", plume, "EPSG:32613", UTM, units="ppm m")
    da = rioxarray.open_rasterio(path)  # (band, y, x), nodata -9999 kept as a value, CRS and transform in rio
    assert da.dims == ("band", "y", "x")
    result = analyze_plumes(da, wind=WIND, sensor="emit")
    assert result.records[0]["emission_rate_kg_h"] == pytest.approx(reference, rel=TOL)
    assert result.geometry.georeferenced and result.records[0]["source_lat"] is not None
    masked = rioxarray.open_rasterio(path, masked=True).squeeze("band", drop=True)  # the 2-D form, NaN for nodata
    assert _rate(masked) == pytest.approx(reference, rel=TOL)


def test_dataarray_in_ppb_m_is_converted_and_unknown_units_refused(plume):
    from plumetrace.errors import InvalidInputError

    attrs = {"crs": "EPSG:32613", "transform": list(UTM)}
    ppm = analyze_plumes(xr.DataArray(plume, dims=("y", "x"), attrs=attrs), wind=WIND, sensor="emit")
    ppb = xr.DataArray(plume * 1000, dims=("y", "x"), attrs={**attrs, "units": "ppb m"})
    rate = analyze_plumes(ppb, wind=WIND, sensor="emit").records[0]["emission_rate_kg_h"]
    assert rate == pytest.approx(ppm.records[0]["emission_rate_kg_h"], rel=1e-4)
    with pytest.raises(InvalidInputError, match="units: 'ppm'"):
        analyze_plumes(ppb.assign_attrs(units="ppm"), wind=WIND)
    with pytest.raises(InvalidInputError, match="several bands"):
        analyze_plumes(xr.DataArray(np.stack([plume, plume]), dims=("band", "y", "x"), attrs=attrs), wind=WIND)


def test_command_line_on_a_one_band_geotiff_and_an_emit_l2b_cog(run_cli, tmp_path, plume):
    import csv

    reference = _own_cog_rate(tmp_path, plume, "EPSG:32613", UTM)
    one = _one_band(tmp_path / "one.tif", plume, "EPSG:32613", UTM)
    code, stdout, stderr = run_cli(
        "plumes", one, "--units", "ppm-m", "--sensor", "emit", "--wind-speed", "4", "--wind-dir", "270",
        "--wind-sigma", "0.4", "--out", tmp_path / "one",
    )  # fmt: skip
    assert code == 0, stderr
    with open(tmp_path / "one" / "plumes.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 1 and float(rows[0]["emission_rate_kg_h"]) == pytest.approx(reference, rel=TOL)
    emit = write_emit_cog(tmp_path, plume, geographic_grid(SHAPE))
    code, stdout, stderr = run_cli(
        "plumes", emit, "--wind-speed", "4", "--wind-dir", "270", "--out", tmp_path / "emit"
    )  # fmt: skip
    assert code == 0, stderr
    with open(tmp_path / "emit" / "plumes.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 1 and rows[0]["sensor"] == "emit" and rows[0]["time"] == "2023-08-05T19:54:59Z"
