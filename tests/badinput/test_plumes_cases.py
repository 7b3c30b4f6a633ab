"""`plumetrace plumes`: bad options, bad enhancement maps and bad wind files are refused in one line, exit 2."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from tests.badinput.harness import Case, check_rejected, ids, write_bytes, write_text

WIND = ["--wind-speed", "3", "--wind-dir", "270"]
GOOD_WIND = "time,wind_speed_m_s,wind_dir_deg\n2026-06-21T16:00:00Z,3.0,270\n2026-06-21T21:00:00Z,3.5,270\n"


def _plumes(inputs, *options):
    return ["plumes", inputs.enhancement_tif, *options]


def _opts(*options):
    """A valid map with the valid wind, then ``options`` (a later option overrides an earlier one)."""
    return lambda i, t: _plumes(i, *WIND, *options)


def _only(*options):
    """A valid map with ``options`` and no default wind."""
    return lambda i, t: _plumes(i, *options)


# --- enhancement maps --------------------------------------------------------------------------------------------


def _variant(
    inputs,
    tmp: Path,
    *,
    name: str = "bad.tif",
    bands=None,
    tags=None,
    drop_tags=(),
    band_tags=None,
    descriptions=None,
    georeferenced: bool = True,
) -> Path:
    """A copy of the valid enhancement map with its bands, tags or georeferencing edited."""
    import rasterio
    from rasterio.errors import NotGeoreferencedWarning

    with rasterio.open(inputs.enhancement_tif) as src:
        profile = src.profile.copy()
        data = src.read()
        all_tags = src.tags()
        names = list(src.descriptions)
        per_band = [src.tags(i) for i in range(1, src.count + 1)]
    if bands is not None:
        data = bands(data)
    all_tags.update(tags or {})
    for key in drop_tags:
        all_tags.pop(key, None)
    names = descriptions if descriptions is not None else names
    profile.update(driver="GTiff", count=data.shape[0])
    if not georeferenced:
        profile.pop("crs", None)
        profile.pop("transform", None)
    path = tmp / name
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(path, "w", **profile) as dst:
            dst.write(data)
            for index in range(data.shape[0]):
                if index < len(names) and names[index]:
                    dst.set_band_description(index + 1, names[index])
                if index < len(per_band):
                    dst.update_tags(index + 1, **{**per_band[index], **((band_tags or {}) if index == 0 else {})})
            dst.update_tags(**all_tags)
    return path


def _set(band: int, value: float, where=np.s_[...]):
    def edit(data):
        data = data.copy()
        data[band][where] = value
        return data

    return edit


def _truncated(inputs, tmp):
    data = Path(inputs.enhancement_tif).read_bytes()
    return write_bytes(tmp, "bad.tif", data[: len(data) // 2])


def _huge(tmp):
    """A GeoTIFF declaring 300000 x 300000 pixels (sparse: a few kB on disk)."""
    import rasterio
    from rasterio.errors import NotGeoreferencedWarning

    path = tmp / "bad.tif"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(
            path,
            "w",
            driver="GTiff",
            width=300_000,
            height=300_000,
            count=4,
            dtype="float32",
            tiled=True,
            blockxsize=8192,
            blockysize=8192,
            sparse_ok=True,
            BIGTIFF="YES",
        ) as dst:
            for index, name in enumerate(("enhancement_ppm_m", "uncertainty_ppm_m", "albedo", "sensitivity"), 1):
                dst.set_band_description(index, name)
            dst.update_tags(units="ppm m")
    return path


def _single_band(tmp, *, count: int = 1, georeferenced: bool = True, **tags):
    """Another tool's map: ``count`` unnamed bands (a noisy 8 x 8 map each) with ``tags``."""
    import rasterio
    from rasterio.errors import NotGeoreferencedWarning

    path = tmp / "bad.tif"
    where = {"crs": "EPSG:32613", "transform": rasterio.transform.Affine(30, 0, 5e5, 0, -30, 3.5e6)}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NotGeoreferencedWarning)
        with rasterio.open(
            path, "w", driver="GTiff", width=8, height=8, count=count, dtype="float32",
            **(where if georeferenced else {}),
        ) as dst:  # fmt: skip
            dst.write(np.random.default_rng(0).normal(0, 30, (count, 8, 8)).astype(np.float32))
            dst.update_tags(**tags)
    return path


def _emit_with_bad_sibling(tmp):
    """An EMIT L2B CH4ENH COG whose CH4UNCERT sibling lies on another grid."""
    from tests.io.emit_l2b_files import geographic_grid, write_emit_cog

    path = write_emit_cog(tmp, np.random.default_rng(0).normal(0, 30, (8, 8)), geographic_grid((8, 8)))
    write_emit_cog(tmp, np.ones((4, 4), np.float32), geographic_grid((4, 4)), product="CH4UNCERT")
    return path


def _emit_netcdf(tmp, *, name="bad.nc", **variables):
    import xarray as xr

    path = tmp / name
    xr.Dataset({k: (("downtrack", "crosstrack"), v[0], v[1]) for k, v in variables.items()}).to_netcdf(
        path, engine="h5netcdf"
    )
    return path


def _png(tmp):
    from PIL import Image

    path = tmp / "bad.png"
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(path)
    return path


def _map(make):
    """A case whose map is built by ``make(inputs, tmp)``, analysed with the valid wind."""
    return lambda i, t: ["plumes", make(i, t), *WIND]


# --- wind files ----------------------------------------------------------------------------------------------


def _wind(text: str, name: str = "wind.csv"):
    return lambda i, t: _plumes(i, "--wind-file", write_text(t, name, text))


def _wind_rows(*rows: str, header: str = "time,wind_speed_m_s,wind_dir_deg"):
    return _wind(header + "\n" + "".join(row + "\n" for row in rows))


def _netcdf(tmp, **variables):
    import xarray as xr

    times = np.array(["2026-06-21T16:00", "2026-06-21T21:00"], dtype="datetime64[ns]")
    ds = xr.Dataset(
        {name: ("time", np.asarray(values, float)) for name, values in variables.items()}, coords={"time": times}
    )
    path = tmp / "wind.nc"
    ds.to_netcdf(path, engine="h5netcdf")
    return path


def _nc(**variables):
    return lambda i, t: _plumes(i, "--wind-file", _netcdf(t, **variables))


def _map_with_wind_file(**edit):
    return lambda i, t: ["plumes", _variant(i, t, **edit), "--wind-file", write_text(t, "wind.csv", GOOD_WIND)]


WIND_FILE = "{tmp}/wind.csv"

CASES = [
    # --wind-speed / --wind-dir / sigmas
    Case("wind-speed-zero", _opts("--wind-speed", "0"), ("--wind-speed", "0.1-30")),
    Case("wind-speed-negative", _opts("--wind-speed", "-3"), ("--wind-speed", "-3")),
    Case("wind-speed-nan", _opts("--wind-speed", "nan"), ("--wind-speed", "finite")),
    Case("wind-speed-inf", _opts("--wind-speed", "inf"), ("--wind-speed", "finite")),
    Case("wind-speed-above-range", _opts("--wind-speed", "45"), ("--wind-speed", "45")),
    Case("wind-speed-text", _opts("--wind-speed", "fast"), ("--wind-speed",)),
    Case("wind-speed-missing", _only("--wind-dir", "270"), ("--wind-speed", "missing")),
    Case("wind-dir-missing", _only("--wind-speed", "3"), ("--wind-dir", "missing")),
    Case("wind-dir-above-360", _opts("--wind-dir", "400"), ("--wind-dir", "0-360")),
    Case("wind-dir-negative", _opts("--wind-dir", "-10"), ("--wind-dir", "0-360")),
    Case("wind-dir-nan", _opts("--wind-dir", "nan"), ("--wind-dir", "finite")),
    Case("wind-sigma-negative", _opts("--wind-sigma", "-1"), ("--wind-sigma",)),
    Case("wind-sigma-nan", _opts("--wind-sigma", "nan"), ("--wind-sigma",)),
    Case("wind-dir-sigma-negative", _opts("--wind-dir-sigma", "-5"), ("--wind-dir-sigma", "0-180")),
    Case("wind-dir-sigma-above-180", _opts("--wind-dir-sigma", "200"), ("--wind-dir-sigma", "0-180")),
    Case("wind-file-and-wind-speed", lambda i, t: _plumes(i, *WIND, "--wind-file", i.wind_csv), ("--wind-file",)),
    # segmentation, geometry, calibration, seed
    Case("pixel-size-zero", _opts("--pixel-size", "0"), ("--pixel-size", "positive")),
    Case("pixel-size-negative", _opts("--pixel-size", "-30"), ("--pixel-size", "positive")),
    Case("pixel-size-nan", _opts("--pixel-size", "nan"), ("--pixel-size", "positive")),
    Case("ueff-garbage", _opts("--ueff", "abc"), ("--ueff", "'abc'")),
    Case("ueff-three-numbers", _opts("--ueff", "1,2,3"), ("--ueff",)),
    Case("ueff-out-of-range", _opts("--ueff", "5,0"), ("--ueff", "out of range")),
    Case("ueff-nan", _opts("--ueff", "nan,0"), ("--ueff",)),
    Case("high-sigma-below-low-sigma", _opts("--high-sigma", "2", "--low-sigma", "3"), ("--low-sigma",)),
    Case("high-sigma-zero", _opts("--high-sigma", "0"), ("--high-sigma", "positive")),
    Case("low-sigma-negative", _opts("--low-sigma", "-1"), ("--low-sigma", "positive")),
    Case("min-pixels-zero", _opts("--min-pixels", "0"), ("--min-pixels", "at least 1")),
    Case("min-pixels-not-integer", _opts("--min-pixels", "2.5"), ("--min-pixels",)),
    Case("min-peak-sigma-negative", _opts("--min-peak-sigma", "-1"), ("--min-peak-sigma",)),
    Case("max-albedo-darkening-above-1", _opts("--max-albedo-darkening", "1.5"), ("--max-albedo-darkening",)),
    Case("seed-negative", _opts("--seed", "-1"), ("--seed", ">= 0")),
    Case("sensor-unknown", _opts("--sensor", "hubble"), ("--sensor", "hubble")),
    # the enhancement file itself
    Case("map-missing", lambda i, t: ["plumes", t / "none.tif", *WIND], ("{tmp}/none.tif", "not found")),
    Case("map-is-directory", lambda i, t: ["plumes", t, *WIND], ("{tmp}", "directory")),
    Case("map-empty-file", _map(lambda i, t: write_bytes(t, "bad.tif", b"")), ("{tmp}/bad.tif", "empty")),
    Case(
        "map-text-file",
        _map(lambda i, t: write_text(t, "bad.tif", "row,col,value\n1,2,3\n")),
        ("{tmp}/bad.tif", "not a GeoTIFF"),
    ),
    Case("map-png", _map(lambda i, t: _png(t)), ("{tmp}/bad.png", "PNG image", "not a GeoTIFF")),
    Case("map-truncated", _map(_truncated), ("{tmp}/bad.tif",)),
    Case("map-declares-300000-squared", _map(lambda i, t: _huge(t)), ("{tmp}/bad.tif", "width", "height", "300000")),
    # another tool's one-band map, an EMIT L2B product
    Case("map-single-band-without-units", _map(lambda i, t: _single_band(t)), ("{tmp}/bad.tif", "units", "--units")),
    Case(
        "map-single-band-in-ppm",
        _map(lambda i, t: _single_band(t, units="ppm")),
        ("{tmp}/bad.tif", "units", "'ppm'", "column"),
    ),
    Case(
        "map-single-band-in-kg-m2-upper-case-tag",
        _map(lambda i, t: _single_band(t, UNITS="kg m-2")),
        ("{tmp}/bad.tif", "units", "'kg m-2'"),
    ),
    Case(
        "map-states-ppb-m-but-units-option-says-ppm-m",
        lambda i, t: ["plumes", _single_band(t, units="ppb m"), *WIND, "--units", "ppm m"],
        ("{tmp}/bad.tif", "units", "'ppb m'", "'ppm m'"),
    ),
    Case("units-option-kg", _opts("--units", "kg"), ("--units", "'kg'")),
    Case(
        "map-single-band-without-georeferencing",
        lambda i, t: ["plumes", _single_band(t, georeferenced=False), *WIND, "--units", "ppm m"],
        ("{tmp}/bad.tif", "transform", "--pixel-size"),
    ),
    Case(
        "map-three-unnamed-bands",
        _map(lambda i, t: _single_band(t, count=3, units="ppm m")),
        ("{tmp}/bad.tif", "enhancement_ppm_m", "3 band", "single band"),
    ),
    Case(
        "map-emit-uncertainty-on-another-grid",
        _map(lambda i, t: _emit_with_bad_sibling(t)),
        ("{tmp}/EMIT_L2B_CH4UNCERT_002_20230805T195459_2321713_002.tif", "grid"),
    ),
    Case(
        "map-netcdf-not-emit-l2b",
        _map(lambda i, t: _emit_netcdf(t, t2m=(np.zeros((4, 4)), {}))),
        ("{tmp}/bad.nc", "ch4_enhancement", "t2m"),
    ),
    Case(
        "map-emit-netcdf-in-ppb",
        _map(lambda i, t: _emit_netcdf(t, ch4_enhancement=(np.zeros((4, 4)), {"units": "ppb"}))),
        ("{tmp}/bad.nc", "units", "'ppb'"),
    ),
    Case(
        "map-emit-netcdf-3d",
        _map(lambda i, t: _emit_netcdf3d(t)),
        ("{tmp}/bad.nc", "ch4_enhancement", "2-D"),
    ),
    Case("map-units-kg", _map(lambda i, t: _variant(i, t, tags={"units": "kg"})), ("{tmp}/bad.tif", "units", "'kg'")),
    Case(
        "map-negative-uncertainty",
        _map(lambda i, t: _variant(i, t, bands=_set(1, -5.0, np.s_[3, 4]))),
        ("{tmp}/bad.tif", "uncertainty_ppm_m", "negative"),
    ),
    Case(
        "map-all-nan",
        _map(lambda i, t: _variant(i, t, bands=_set(0, np.nan))),
        ("{tmp}/bad.tif", "enhancement_ppm_m", "empty"),
    ),
    Case("map-all-nodata-value", _map(lambda i, t: _nodata_map(i, t)), ("{tmp}/bad.tif", "enhancement_ppm_m", "empty")),
    Case(
        "map-infinite-pixel",
        _map(lambda i, t: _variant(i, t, bands=_set(0, np.inf, np.s_[2, 2]))),
        ("{tmp}/bad.tif", "enhancement_ppm_m", "infinite"),
    ),
    Case("map-constant", _map(lambda i, t: _variant(i, t, bands=_set(0, 0.0))), ("{tmp}/bad.tif", "enhancement")),
    Case(
        "map-without-georeferencing",
        _map(lambda i, t: _variant(i, t, georeferenced=False)),
        ("{tmp}/bad.tif", "transform", "--pixel-size"),
    ),
    Case(
        "map-unknown-sensor-tag",
        _map(lambda i, t: _variant(i, t, tags={"sensor": "hubble"})),
        ("{tmp}/bad.tif", "sensor", "hubble"),
    ),
    Case(
        "map-unknown-gas-tag",
        _map(lambda i, t: _variant(i, t, tags={"gas": "xenon"})),
        ("{tmp}/bad.tif", "gas", "xenon"),
    ),
    Case(
        "map-no-time-for-wind-file",
        _map_with_wind_file(drop_tags=("acquisition_time",)),
        ("{tmp}/bad.tif", "acquisition_time", "missing"),
    ),
    Case(
        "map-garbage-time-for-wind-file",
        _map_with_wind_file(tags={"acquisition_time": "yesterday noon"}),
        ("{tmp}/bad.tif", "acquisition_time", "yesterday noon"),
    ),
    # --wind-file
    Case("wind-file-missing", lambda i, t: _plumes(i, "--wind-file", t / "none.csv"), ("{tmp}/none.csv", "not found")),
    Case(
        "wind-file-directory",
        lambda i, t: _plumes(i, "--wind-file", (t / "w.csv").mkdir() or t / "w.csv"),
        ("{tmp}/w.csv", "directory"),
    ),
    Case(
        "wind-file-binary",
        lambda i, t: _plumes(i, "--wind-file", write_bytes(t, "wind.csv", bytes(range(256)) * 4)),
        (WIND_FILE, "binary"),
    ),
    Case(
        "wind-file-unknown-type",
        lambda i, t: _plumes(i, "--wind-file", write_text(t, "wind.xlsx", GOOD_WIND)),
        ("{tmp}/wind.xlsx", "format"),
    ),
    Case("wind-file-empty", _wind(""), (WIND_FILE, "empty")),
    Case("wind-file-header-only", _wind_rows(), (WIND_FILE, "rows")),
    Case("wind-file-no-time-column", _wind_rows("3,270", header="wind_speed_m_s,wind_dir_deg"), (WIND_FILE, "time")),
    Case(
        "wind-file-missing-direction",
        _wind_rows("2026-06-21T16:00:00Z,3", header="time,wind_speed_m_s"),
        (WIND_FILE, "wind columns"),
    ),
    Case(
        "wind-file-bad-time",
        _wind_rows("2026-06-21T16:00:00Z,3,270", "21/06/2026 5pm,3,270"),
        (WIND_FILE, "time", "21/06/2026 5pm"),
    ),
    Case(
        "wind-file-nan-speed",
        _wind_rows("2026-06-21T16:00:00Z,nan,270", "2026-06-21T21:00:00Z,3,270"),
        (WIND_FILE, "wind_speed_m_s", "row 2"),
    ),
    Case("wind-file-text-speed", _wind_rows("2026-06-21T16:00:00Z,calm,270"), (WIND_FILE, "wind_speed_m_s", "calm")),
    Case(
        "wind-file-negative-speed",
        _wind_rows("2026-06-21T16:00:00Z,-3,90", "2026-06-21T21:00:00Z,-3,90"),
        (WIND_FILE, "wind_speed_m_s", "negative"),
    ),
    Case(
        "wind-file-500-m-s",
        _wind_rows("2026-06-21T16:00:00Z,500,270", "2026-06-21T21:00:00Z,3,270"),
        (WIND_FILE, "wind_speed_m_s", "500"),
    ),
    Case(
        "wind-file-direction-400",
        _wind_rows("2026-06-21T16:00:00Z,3,400", "2026-06-21T21:00:00Z,3,270"),
        (WIND_FILE, "wind_dir_deg", "400"),
    ),
    Case(
        "wind-file-conflicting-duplicate-time",
        _wind_rows("2026-06-21T16:00:00Z,3,270", "2026-06-21T16:00:00Z,8,90", "2026-06-21T21:00:00Z,3,270"),
        (WIND_FILE, "time", "2026-06-21T16:00:00"),
    ),
    Case(
        "wind-file-repeated-column",
        _wind_rows("2026-06-21T16:00:00Z,3,270,5", header="time,wind_speed_m_s,wind_dir_deg,wind_speed_m_s"),
        (WIND_FILE, "wind_speed_m_s", "more than once"),
    ),
    Case(
        "wind-file-misses-scene-time",
        _wind_rows("2026-06-20T16:00:00Z,3,270", "2026-06-20T21:00:00Z,3,270"),
        (WIND_FILE, "time", "outside the wind series"),
    ),
    Case(
        "wind-file-calm-at-scene-time",
        _wind_rows("2026-06-21T16:00:00Z,0,270", "2026-06-21T21:00:00Z,0,270"),
        (WIND_FILE, "wind speed", "0.1-30"),
    ),
    Case(
        "wind-file-negative-sigma",
        _wind_rows(
            "2026-06-21T16:00:00Z,3,270,-1",
            "2026-06-21T21:00:00Z,3,270,-1",
            header="time,wind_speed_m_s,wind_dir_deg,wind_speed_sigma_m_s",
        ),
        (WIND_FILE, "wind_speed_sigma_m_s"),
    ),
    Case(
        "wind-file-latitude-95",
        _wind_rows("2026-06-21T16:00:00Z,95,-102,3,270", header="time,lat,lon,wind_speed_m_s,wind_dir_deg"),
        (WIND_FILE, "lat", "95"),
    ),
    Case(
        "wind-file-lat-without-lon",
        _wind_rows("2026-06-21T16:00:00Z,31.9,3,270", header="time,lat,wind_speed_m_s,wind_dir_deg"),
        (WIND_FILE, "lon"),
    ),
    Case(
        "wind-file-u10-150-m-s",
        _wind_rows("2026-06-21T16:00:00Z,150,0", header="time,u10_m_s,v10_m_s"),
        (WIND_FILE, "u10_m_s"),
    ),
    Case("netcdf-without-u10-v10", _nc(t2m=[290.0, 295.0]), ("{tmp}/wind.nc", "wind variables")),
    Case(
        "netcdf-not-netcdf",
        lambda i, t: _plumes(i, "--wind-file", write_text(t, "wind.nc", GOOD_WIND)),
        ("{tmp}/wind.nc", "NetCDF"),
    ),
    Case("netcdf-nan-wind", _nc(u10=[np.nan, np.nan], v10=[np.nan, np.nan]), ("{tmp}/wind.nc", "u10")),
]


def _emit_netcdf3d(tmp):
    import xarray as xr

    path = tmp / "bad.nc"
    xr.Dataset({"ch4_enhancement": (("a", "b", "c"), np.zeros((2, 3, 4)), {"units": "ppm m"})}).to_netcdf(
        path, engine="h5netcdf"
    )
    return path


def _nodata_map(inputs, tmp):
    """Every enhancement pixel equal to the band's declared nodata value (-9999)."""
    import rasterio

    path = _variant(inputs, tmp, bands=_set(0, -9999.0))
    with rasterio.open(path, "r+") as dst:
        dst.nodata = -9999.0
    return path


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_plumes_input_refused(run_cli, inputs, tmp_path, case):
    print(case.id, "->", check_rejected(run_cli, case, inputs, tmp_path))
