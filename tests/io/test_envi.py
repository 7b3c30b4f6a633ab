"""ENVI reader/writer: round trips, every layout the reader claims, companions, and each kind of bad file."""

from __future__ import annotations

from pathlib import Path

import dask.array as da
import numpy as np
import pytest
from pyproj import CRS

from plumetrace.errors import InvalidFileError, InvalidInputError, MissingFileError
from plumetrace.io.envi import read_envi, read_envi_header, write_envi
from plumetrace.scene import make_scene

WAVELENGTH_NM = np.array([2100.0, 2200.0, 2300.0, 2400.0])
FWHM_NM = np.array([5.0, 5.5, 6.0, 6.5])
UTM11 = CRS.from_epsg(32611).to_wkt()


def _cube(lines: int = 7, samples: int = 5, bands: int = 4, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(0.0, 10.0, (lines, samples, bands)).astype(np.float32)


def _scene(radiance: np.ndarray | None = None, **kwargs):
    radiance = _cube() if radiance is None else radiance
    return make_scene(radiance, WAVELENGTH_NM[: radiance.shape[2]], FWHM_NM[: radiance.shape[2]], **kwargs)


@pytest.fixture(autouse=True)
def _no_unit_warning(recwarn):
    """Hand-made files mostly omit 'data units'; the reader warns (checked in its own test)."""


def write_raw_envi(
    path: Path,
    cube_yxb: np.ndarray,
    *,
    interleave: str = "bil",
    dtype: str = "<f4",
    data_type: int = 4,
    offset: int = 0,
    extra: str | None = None,
    wavelength: str | None = "wavelength = {2100, 2200, 2300, 2400}",
    fwhm: str | None = "fwhm = {5, 5.5, 6, 6.5}",
    units: str | None = "wavelength units = Nanometers",
    byte_order: int | None = None,
) -> Path:
    """Write a hand-made ENVI file (independent of write_envi) so the reader is checked against known bytes."""
    axes = {"bil": (0, 2, 1), "bip": (0, 1, 2), "bsq": (2, 0, 1)}[interleave]
    body = np.ascontiguousarray(cube_yxb.transpose(axes)).astype(dtype)
    path.write_bytes(b"\x00" * offset + body.tobytes())
    lines, samples, bands = cube_yxb.shape
    if byte_order is None:
        byte_order = 1 if np.dtype(dtype).byteorder == ">" else 0
    header = [
        "ENVI",
        f"samples = {samples}",
        f"lines   = {lines}",
        f"bands   = {bands}",
        f"header offset = {offset}",
        "file type = ENVI Standard",
        f"data type = {data_type}",
        f"interleave = {interleave}",
        f"byte order = {byte_order}",
    ]
    header += [line for line in (units, wavelength, fwhm, extra) if line]
    path.with_name(path.name + ".hdr").write_text("\n".join(header) + "\n")
    return path


@pytest.mark.parametrize("interleave", ["bil", "bip", "bsq"])
def test_round_trip_every_interleave(tmp_path, interleave):
    radiance = _cube()
    radiance[2, 3, 1] = np.nan
    scene = _scene(radiance, sensor="aviris-ng", acquisition_time="2017-11-08T18:42:27Z", solar_zenith_deg=35.0)
    path = write_envi(scene, tmp_path / "scene_img", interleave=interleave)
    assert path == tmp_path / "scene_img" and (tmp_path / "scene_img.hdr").is_file()
    assert path.stat().st_size == radiance.size * 4
    back = read_envi(path)
    np.testing.assert_array_equal(back["radiance"].values, radiance)
    np.testing.assert_allclose(back["wavelength"].values, WAVELENGTH_NM)
    np.testing.assert_allclose(back["fwhm"].values, FWHM_NM)
    assert back.attrs["sensor"] == "aviris-ng"
    assert back.attrs["acquisition_time"] == "2017-11-08T18:42:27Z"
    assert back.attrs["solar_zenith_deg"] == 35.0
    assert back["radiance"].dtype == np.float32


def test_reader_is_lazy_row_chunks_with_whole_bands(tmp_path, monkeypatch):
    from plumetrace.io.envi import cube as envi_cube

    monkeypatch.setattr(envi_cube, "CHUNK_BYTES", 5 * 4 * 4 * 3)  # three rows of 5 samples x 4 bands per chunk
    path = write_raw_envi(tmp_path / "cube.img", _cube(lines=10))
    scene = read_envi(path)
    data = scene["radiance"].data
    assert isinstance(data, da.Array)
    assert data.chunks == ((3, 3, 3, 1), (5,), (4,))


def test_band_window_reads_only_the_bands_and_row_chunks_asked(tmp_path, monkeypatch):
    from plumetrace.io.envi import cube as envi_cube

    monkeypatch.setattr(envi_cube, "CHUNK_BYTES", 5 * 4 * 4 * 3)  # 3-row chunks
    cube = _cube(lines=12)
    path = write_raw_envi(tmp_path / "cube.img", cube, interleave="bil", extra="data units = uW cm-2 sr-1 nm-1")
    scene = read_envi(path)
    seen: list[tuple[int, ...]] = []
    original = envi_cube.EnviCube.__getitem__

    def spy(self, key):
        block = original(self, key)
        seen.append(block.shape)
        return block

    monkeypatch.setattr(envi_cube.EnviCube, "__getitem__", spy)
    window = scene["radiance"].sel(band=slice(1, 3)).isel(y=slice(2, 5)).values
    np.testing.assert_array_equal(window, cube[2:5, :, 1:3])
    assert all(shape[2] == 2 for shape in seen)  # only the two bands asked are read
    assert sum(shape[0] for shape in seen) <= 6  # only the two row chunks that hold rows 2-4


@pytest.mark.parametrize(
    ("dtype", "code"),
    [("u1", 1), ("<i2", 2), ("<i4", 3), ("<f4", 4), ("<f8", 5), ("<u2", 12), (">i2", 2), (">f4", 4), (">u2", 12)],
)
def test_data_types_and_byte_orders(tmp_path, dtype, code):
    cube = np.arange(7 * 5 * 4, dtype=np.float64).reshape(7, 5, 4) % 200
    path = write_raw_envi(tmp_path / "cube.img", cube, dtype=dtype, data_type=code)
    np.testing.assert_array_equal(read_envi(path)["radiance"].values, cube.astype(np.float32))


def test_header_offset_ignore_value_micrometres_and_radiance_units(tmp_path):
    cube = _cube()
    cube[0, 0, :] = -9999.0
    write_raw_envi(
        tmp_path / "cube.dat",
        cube,
        offset=512,
        units="wavelength units = Micrometers",
        wavelength="wavelength = {2.1, 2.2, 2.3, 2.4}",
        fwhm="fwhm = {0.005, 0.0055, 0.006, 0.0065}",
        extra="data ignore value = -9999\ndata units = W m-2 sr-1 um-1",
    )
    scene = read_envi(tmp_path / "cube.dat.hdr")  # the header path works too
    np.testing.assert_allclose(scene["wavelength"].values, WAVELENGTH_NM)
    np.testing.assert_allclose(scene["fwhm"].values, FWHM_NM)
    values = scene["radiance"].values
    assert np.all(np.isnan(values[0, 0]))
    # 1 W m-2 sr-1 um-1 = 0.1 uW cm-2 sr-1 nm-1
    np.testing.assert_allclose(values[1:], cube[1:] * 0.1, rtol=1e-6)


def test_header_beside_stem_is_found(tmp_path):
    path = write_raw_envi(tmp_path / "cube.img", _cube())
    path.with_name("cube.img.hdr").rename(tmp_path / "cube.hdr")
    assert read_envi(path).sizes["band"] == 4


def test_rotated_map_info_matches_gdal_geotransform(tmp_path):
    # ORNL DAAC AVIRIS-NG example (ang20170714t213741): GDAL reports this GeoTransform for the header below.
    map_info = "map info = {UTM, 1, 1, 581226.666764, 7916192.56364, 5.2, 5.2, 4, North,WGS-84, rotation=42}"
    path = write_raw_envi(tmp_path / "ang20170714t213741_rdn_v2p9_img", _cube(), extra=map_info)
    scene = read_envi(path)
    gdal = (581226.666764, 3.86435309248245, 3.479479153066063, 7916192.56364, 3.479479153066063, -3.86435309248245)
    a, b, c, d, e, f = scene.attrs["transform"]
    np.testing.assert_allclose((c, a, b, f, d, e), gdal, rtol=1e-12)
    assert CRS.from_user_input(scene.attrs["crs"]).to_epsg() == 32604
    assert scene.attrs["sensor"] == "aviris-ng"
    assert scene.attrs["acquisition_time"] == "2017-07-14T21:37:41Z"


def test_rotated_transform_round_trips_through_header(tmp_path):
    transform = (3.86435309248245, 3.479479153066063, 581226.666764, 3.479479153066063, -3.86435309248245, 7916192.5)
    scene = _scene(crs=UTM11, transform=transform)
    back = read_envi(write_envi(scene, tmp_path / "s.img"))
    np.testing.assert_allclose(back.attrs["transform"], transform, rtol=1e-12)
    assert CRS.from_user_input(back.attrs["crs"]).to_epsg() == 32611


def test_companions_glt_loc_obs_round_trip(tmp_path):
    lines, samples = 7, 5
    lat = np.linspace(34.0, 34.1, lines * samples).reshape(lines, samples)
    lon = np.linspace(-118.2, -118.1, lines * samples).reshape(lines, samples)
    sza = np.full((lines, samples), 31.0, dtype=np.float32)
    vza = np.linspace(0, 12, lines * samples, dtype=np.float32).reshape(lines, samples)
    scene = _scene(lat=lat, lon=lon, solar_zenith_deg=sza, view_zenith_deg=vza)
    scene["glt_row"] = (("gy", "gx"), np.array([[0, -1, 6], [3, 2, -1]], dtype=np.int32))
    scene["glt_col"] = (("gy", "gx"), np.array([[0, -1, 4], [1, 2, -1]], dtype=np.int32))
    scene.attrs.update(glt_crs=UTM11, glt_transform=[5.0, 0.0, 400000.0, 0.0, -5.0, 3760000.0])
    path = write_envi(scene, tmp_path / "ang20171108t184227_rdn_v2p11_img")
    for kind in ("glt", "loc", "obs"):
        assert (tmp_path / f"ang20171108t184227_rdn_v2p11_{kind}.hdr").is_file()
    glt_header = read_envi_header(tmp_path / "ang20171108t184227_rdn_v2p11_glt.hdr")
    assert glt_header["data type"] == "3"
    raw_glt = np.fromfile(tmp_path / "ang20171108t184227_rdn_v2p11_glt", dtype="<i4").reshape(2, 2, 3)  # BIL
    np.testing.assert_array_equal(raw_glt[0, 0], [1, 0, 5])  # sample lookup, 1-based, 0 = none
    np.testing.assert_array_equal(raw_glt[0, 1], [1, 0, 7])  # line lookup
    back = read_envi(path)
    np.testing.assert_array_equal(back["glt_row"].values, scene["glt_row"].values)
    np.testing.assert_array_equal(back["glt_col"].values, scene["glt_col"].values)
    np.testing.assert_allclose(back.attrs["glt_transform"], scene.attrs["glt_transform"])
    np.testing.assert_allclose(back["lat"].values, lat)
    np.testing.assert_allclose(back["lon"].values, lon)
    np.testing.assert_allclose(back["solar_zenith_deg"].values, sza)
    np.testing.assert_allclose(back["view_zenith_deg"].values, vza)


def test_obs_bands_found_by_name(tmp_path):
    cube = _cube()
    path = write_raw_envi(tmp_path / "x_rdn_img", cube)
    obs = np.zeros((7, 5, 3), dtype=np.float32)
    obs[:, :, 0], obs[:, :, 1], obs[:, :, 2] = 40.0, 7.0, 123.0
    write_raw_envi(
        tmp_path / "x_rdn_obs",
        obs,
        wavelength=None,
        fwhm=None,
        units=None,
        extra="band names = {To-sun zenith (0 to 90 degrees from zenith), To-sensor zenith (0 to 90 degrees from zenith), Path length (m)}",
    )
    scene = read_envi(path)
    assert float(scene["solar_zenith_deg"].mean()) == 40.0
    assert float(scene["view_zenith_deg"].mean()) == 7.0


# ------------------------------------------------------------------------------------------------ bad input


def test_truncated_file(tmp_path):
    path = write_raw_envi(tmp_path / "c.img", _cube())
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(InvalidFileError, match=r"c\.img: data size: .*truncated"):
        read_envi(path)


def test_header_data_size_mismatch(tmp_path):
    path = write_raw_envi(tmp_path / "c.img", _cube())
    with path.open("ab") as handle:
        handle.write(b"\x00" * 16)
    with pytest.raises(InvalidFileError, match="data size: .*mismatch"):
        read_envi(path)


@pytest.mark.parametrize("field", ["wavelength", "fwhm"])
def test_missing_wavelength_or_fwhm(tmp_path, field):
    path = write_raw_envi(tmp_path / "c.img", _cube(), **{field: None})
    with pytest.raises(InvalidFileError, match=rf"c\.img\.hdr: {field}: missing"):
        read_envi(path)


def test_wrong_number_of_wavelengths(tmp_path):
    path = write_raw_envi(tmp_path / "c.img", _cube(), wavelength="wavelength = {2100, 2200, 2300}")
    with pytest.raises(InvalidFileError, match="wavelength: 3 values for 4 bands"):
        read_envi(path)


def test_non_monotonic_wavelengths(tmp_path):
    path = write_raw_envi(tmp_path / "c.img", _cube(), wavelength="wavelength = {2100, 2300, 2200, 2400}")
    with pytest.raises(InvalidFileError, match="wavelength: not strictly increasing"):
        read_envi(path)


def test_unknown_wavelength_units(tmp_path):
    path = write_raw_envi(tmp_path / "c.img", _cube(), units="wavelength units = Unknown")
    with pytest.raises(InvalidFileError, match="wavelength units: 'Unknown'"):
        read_envi(path)


def test_unknown_radiance_units(tmp_path):
    path = write_raw_envi(tmp_path / "c.img", _cube(), extra="data units = furlongs")
    with pytest.raises(InvalidFileError, match="data units"):
        read_envi(path)


def test_unsupported_interleave(tmp_path):
    path = write_raw_envi(tmp_path / "c.img", _cube())
    hdr = path.with_name("c.img.hdr")
    hdr.write_text(hdr.read_text().replace("interleave = bil", "interleave = bxx"))
    with pytest.raises(InvalidFileError, match="interleave: 'bxx' is not supported"):
        read_envi(path)


def test_unsupported_data_type(tmp_path):
    path = write_raw_envi(tmp_path / "c.img", _cube(), dtype="<c8", data_type=6)
    with pytest.raises(InvalidFileError, match="data type: 6 is not supported"):
        read_envi(path)


def test_all_fill_data(tmp_path):
    path = write_raw_envi(tmp_path / "c.img", np.full((7, 5, 4), -9999.0), extra="data ignore value = -9999")
    with pytest.raises(InvalidFileError, match="radiance: every pixel is fill"):
        read_envi(path)


def test_not_an_envi_header(tmp_path):
    path = write_raw_envi(tmp_path / "c.img", _cube())
    path.with_name("c.img.hdr").write_text("samples = 5\n")
    with pytest.raises(InvalidFileError, match="header: first line is not 'ENVI'"):
        read_envi(path)


def test_missing_header_and_missing_file(tmp_path):
    (tmp_path / "c.img").write_bytes(b"\x00" * 16)
    with pytest.raises(MissingFileError, match="ENVI header not found"):
        read_envi(tmp_path / "c.img")
    with pytest.raises(MissingFileError):
        read_envi(tmp_path / "nope.img")


def test_writer_rejects_unknown_interleave(tmp_path):
    with pytest.raises(InvalidInputError, match="interleave"):
        write_envi(_scene(), tmp_path / "s.img", interleave="bxx")


_STREAM_SCRIPT = r"""
import json, sys, time
import numpy as np
from plumetrace.io.envi import read_envi
start = time.perf_counter()
scene = read_envi(sys.argv[1])
opened = time.perf_counter() - start
window = scene["radiance"].sel(band=slice(300, 360)).isel(y=slice(0, 300))
mean = float(window.mean().compute())
# VmHWM, not ru_maxrss: Linux carries the forking parent's ru_maxrss across exec, so a child of a big pytest worker
# would report the worker's peak.
hwm_kib = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"open_s": opened, "mean": mean, "rss_mib": hwm_kib / 1024}))
"""


def test_large_file_opens_instantly_and_streams_with_bounded_memory(tmp_path):
    """A 1.8 GiB AVIRIS-NG-sized cube (sparse file: no disk used) opens at once (header + 9-row probe); reading a band
    window over 300 rows keeps the process far below the size of what it read."""
    import json
    import subprocess
    import sys

    lines, samples, bands = 900, 1242, 425
    path = tmp_path / "ang20200101t000000_rdn_v2p9_img"
    with path.open("wb") as handle:
        handle.truncate(lines * samples * bands * 4)
    wavelengths = ", ".join(f"{w:.3f}" for w in np.linspace(380.0, 2510.0, bands))
    path.with_name(path.name + ".hdr").write_text(
        f"ENVI\nsamples = {samples}\nlines = {lines}\nbands = {bands}\nheader offset = 0\ndata type = 4\n"
        f"interleave = bil\nbyte order = 0\nwavelength units = Nanometers\nwavelength = {{{wavelengths}}}\n"
        f"fwhm = {{{', '.join(['5.0'] * bands)}}}\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", _STREAM_SCRIPT, str(path)], capture_output=True, text=True, timeout=120, check=True
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["mean"] == 0.0
    assert report["open_s"] < 5.0  # ~0.1 s idle; generous for a loaded 2-core CI machine
    assert report["rss_mib"] < 450  # interpreter + libraries ~150-200 MiB; the file read is ~1.8 GiB


def test_missing_data_units_warns_and_assumes_project_units(tmp_path):
    from plumetrace.errors import PlumetraceWarning

    path = write_raw_envi(tmp_path / "c.img", _cube())
    with pytest.warns(PlumetraceWarning, match="data units: missing"):
        scene = read_envi(path)
    np.testing.assert_array_equal(scene["radiance"].values, _cube())


def test_igm_companion(tmp_path):
    path = write_raw_envi(tmp_path / "x_rdn_img", _cube())
    igm = np.zeros((7, 5, 3))
    igm[:, :, 0] = 400000.0 + np.arange(5)[None, :] * 5.0
    igm[:, :, 1] = 3770000.0 - np.arange(7)[:, None] * 5.0
    igm[:, :, 2] = 120.0
    write_raw_envi(tmp_path / "x_rdn_igm", igm, dtype="<f8", data_type=5, wavelength=None, fwhm=None, units=None)
    scene = read_envi(path)
    np.testing.assert_array_equal(scene["map_x"].values, igm[:, :, 0])
    np.testing.assert_array_equal(scene["map_y"].values, igm[:, :, 1])
    assert float(scene["elevation_m"].mean()) == 120.0


def test_companion_on_another_grid_is_rejected(tmp_path):
    path = write_raw_envi(tmp_path / "x_rdn_img", _cube())
    write_raw_envi(
        tmp_path / "x_rdn_loc", np.zeros((6, 5, 3)), dtype="<f8", data_type=5, wavelength=None, fwhm=None, units=None
    )
    with pytest.raises(InvalidFileError, match=r"x_rdn_loc: samples/lines: loc grid \(6, 5\)"):
        read_envi(path)


@pytest.mark.shared_data
def test_real_aviris_ng_spectra_and_calibration(shared_data, tmp_path):
    """Real AVIRIS-NG Pasadena radiance spectra (uW cm-2 sr-1 nm-1) in a cube whose header carries the real
    AVIRIS-NG wavelength calibration in micrometres: the reader must return the spectra unchanged and the band
    centres in nm matching the radiance files' own nm column."""
    remote = shared_data / "swir-scenes" / "aviris-ng-pasadena" / "remote"
    calibration = np.loadtxt(remote / "20170320_ang20170228_wavelength_fit.txt")
    spectra = [np.loadtxt(p) for p in sorted(remote.glob("ang20171108t184227_rdn_v2p11_*.txt"))]
    spectra = [s for s in spectra if s.shape[0] == calibration.shape[0]]
    assert len(spectra) >= 3
    cube = np.stack([s[:, 1] for s in spectra])[None, :, :].astype(np.float32)  # 1 line x N samples x 425 bands
    path = write_raw_envi(
        tmp_path / "ang20171108t184227_rdn_v2p11_img",
        cube,
        units="wavelength units = Micrometers",
        wavelength="wavelength = {" + ", ".join(f"{w:.5f}" for w in calibration[:, 1]) + "}",
        fwhm="fwhm = {" + ", ".join(f"{w:.5f}" for w in calibration[:, 2]) + "}",
        extra="data units = uW cm-2 sr-1 nm-1",
    )
    scene = read_envi(path)
    assert scene.attrs["sensor"] == "aviris-ng" and scene.sizes["band"] == 425
    np.testing.assert_allclose(scene["wavelength"].values, spectra[0][:, 0], atol=0.01)
    assert 5.0 < float(scene["fwhm"].mean()) < 6.5
    np.testing.assert_array_equal(scene["radiance"].values, cube)
