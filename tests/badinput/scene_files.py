"""Bad scene files for the ``detect`` and ``info`` cases: corrupted copies of the session's valid ENVI scene,
and NetCDF / HDF5 files that are not what they claim to be."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from tests.badinput.harness import Inputs, edit_header, write_bytes, write_text

__all__ = [
    "header_edit",
    "data_copy",
    "cube_with",
    "emit_nc",
    "emit_variant",
    "truncated",
    "bad_nc",
    "companion",
    "ENVI_FIELDS",
]

#: Valid layout lines of an ENVI header written from scratch (32 × 32 × 285 float32 BIL, like the session scene).
ENVI_FIELDS = "ENVI\nsamples = 32\nlines = 32\nbands = 285\nheader offset = 0\ndata type = 4\ninterleave = bil\n"


def header_edit(inputs: Inputs, tmp: Path, changes: dict[str, str | None], name: str = "bad.hdr") -> Path:
    """The valid header with ``changes`` (None deletes), its data file linked beside it."""
    return edit_header(inputs.scene_hdr, tmp, changes, name=name)


def _values(inputs: Inputs, key: str) -> list[str]:
    from plumetrace.io.envi import read_envi_header

    return list(read_envi_header(inputs.scene_hdr)[key])


def brace(values: list[str] | np.ndarray) -> str:
    return "{" + ", ".join(str(v) for v in values) + "}"


def wavelengths(inputs: Inputs) -> list[str]:
    return _values(inputs, "wavelength")


def fwhms(inputs: Inputs) -> list[str]:
    return _values(inputs, "fwhm")


def data_copy(
    inputs: Inputs,
    tmp: Path,
    data: bytes | None = None,
    *,
    header: dict[str, str | None] | None = None,
    name: str = "bad",
) -> Path:
    """A header ``tmp/<name>.hdr`` (valid, or with ``header`` changes) over a data file of its own (``data``, or a
    copy of the valid data)."""
    hdr = edit_header(inputs.scene_hdr, tmp, header or {}, name=f"{name}.hdr")
    target = tmp / name
    target.unlink()  # edit_header linked the valid data: give it a file of its own
    if data is None:
        shutil.copyfile(inputs.scene_hdr.with_suffix(""), target)
    else:
        target.write_bytes(data)
    return hdr


def cube(inputs: Inputs) -> np.ndarray:
    """The valid scene's float32 data, (lines, bands, samples) as stored (BIL)."""
    return np.fromfile(inputs.scene_hdr.with_suffix(""), dtype="<f4").reshape(32, 285, 32)


def cube_with(inputs: Inputs, tmp: Path, edit, *, header: dict[str, str | None] | None = None) -> Path:
    """A copy of the scene whose data ``edit(cube)`` returns (float32 little-endian BIL unless ``header`` says)."""
    data = np.asarray(edit(cube(inputs).copy()))
    return data_copy(inputs, tmp, data.tobytes(), header=header)


def emit_nc(inputs: Inputs) -> Path:
    """The session scene as an EMIT L1B-like NetCDF (written once, beside the valid inputs)."""
    path = inputs.root / "EMIT_L1B_RAD_001_20260621T183000_2617212_001.nc"
    if not path.exists():
        from plumetrace.io.emit import write_emit_netcdf
        from plumetrace.io.envi import read_envi

        partial = path.with_suffix(".part")
        write_emit_netcdf(read_envi(inputs.scene_hdr), partial)
        partial.rename(path)
    return path


def emit_variant(inputs: Inputs, tmp: Path, edit, name: str = "EMIT_L1B_RAD_bad.nc") -> Path:
    """A copy of the EMIT NetCDF changed in place by ``edit(h5py.File)``."""
    import h5py

    path = tmp / name
    shutil.copyfile(emit_nc(inputs), path)
    with h5py.File(path, "r+") as handle:
        edit(handle)
    return path


def truncated(source: Path, tmp: Path, name: str, fraction: float = 0.5) -> Path:
    data = source.read_bytes()
    return write_bytes(tmp, name, data[: int(len(data) * fraction)])


def bad_nc(tmp: Path, name: str = "other.nc") -> Path:
    """A valid NetCDF-4 file with neither EMIT nor PRISMA content."""
    import h5py

    path = tmp / name
    with h5py.File(path, "w") as handle:
        handle["temperature"] = np.zeros((4, 5), dtype=np.float32)
        handle.attrs["title"] = "a weather grid"
    return path


def companion(
    inputs: Inputs,
    tmp: Path,
    kind: str,
    *,
    lines: int = 32,
    samples: int = 32,
    bands: int = 3,
    data_type: int = 4,
    size: int | None = None,
) -> Path:
    """The valid scene (header + linked data as ``tmp/bad``) with an ENVI companion ``tmp/bad_<kind>``."""
    hdr = header_edit(inputs, tmp, {})
    itemsize = {3: 4, 4: 4, 5: 8}[data_type]
    n = lines * samples * bands * itemsize if size is None else size
    write_bytes(tmp, f"bad_{kind}", b"\0" * n)
    write_text(
        tmp,
        f"bad_{kind}.hdr",
        f"ENVI\nsamples = {samples}\nlines = {lines}\nbands = {bands}\n"
        f"header offset = 0\ndata type = {data_type}\ninterleave = bil\nbyte order = 0\n",
    )
    return hdr


# ------------------------------------------------------------------------------------------------ the bad scenes
# (id, make(inputs, tmp) -> the path given as SCENE, substrings the error line must name). ``info`` and ``detect``
# run every one of them: both read a scene through one validation, so they must refuse the same files.


def _h(changes: dict[str, str | None]):
    return lambda i, t: header_edit(i, t, changes)


def _shuffled(i: Inputs) -> str:
    values = wavelengths(i)
    values[10], values[11] = values[11], values[10]
    return brace(values)


def _repeated(i: Inputs) -> str:
    values = wavelengths(i)
    values[11] = values[10]
    return brace(values)


def _scaled(values: list[str], factor: float, index: int | None = None) -> str:
    out = [float(v) * factor if index is None or k == index else float(v) for k, v in enumerate(values)]
    return brace([f"{v:.6f}" for v in out])


def _byte_swapped(i: Inputs, t: Path) -> Path:
    return cube_with(i, t, lambda c: c.astype(">f4"))  # big-endian data, header still says byte order = 0


def _png(t: Path, name: str) -> Path:
    return write_bytes(t, name, b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)


def _emit_edit(edit):
    return lambda i, t: emit_variant(i, t, edit)


def _emit_wavelengths(handle) -> None:
    wl = handle["sensor_band_parameters/wavelengths"]
    values = wl[...]
    values[[3, 4]] = values[[4, 3]]
    wl[...] = values


def _emit_units(handle) -> None:
    handle["radiance"].attrs["units"] = "furlongs"


def _emit_drop(name: str):
    def edit(handle) -> None:
        del handle[name]

    return edit


def _emit_fill(handle) -> None:
    handle["radiance"][...] = -9999.0


def _enmap_xml(t: Path) -> Path:
    folder = t / "ENMAP01-____L1B-DT0000001234_20260621T183000Z_001_V010400_20260622T000000Z"
    folder.mkdir()
    write_text(folder, "ENMAP01-____L1B-DT0000001234-METADATA.XML", "<level_X><specific><bandCharacterisation>")
    return folder


SCENES = [
    # files that are missing or are not scenes at all
    ("missing-header", lambda i, t: t / "nothere.hdr", ("{tmp}/nothere.hdr",)),
    ("missing-data-file", lambda i, t: write_text(t, "bad.hdr", i.scene_hdr.read_text()), ("{tmp}/bad", "data file")),
    ("directory", lambda i, t: t, ("{tmp}", "format")),
    ("text-file-no-header", lambda i, t: write_text(t, "scene.txt", "hello"), ("{tmp}/scene.txt", "format")),
    ("empty-file-nc", lambda i, t: write_bytes(t, "empty.nc", b""), ("{tmp}/empty.nc", "format")),
    ("png-renamed-nc", lambda i, t: _png(t, "scene.nc"), ("{tmp}/scene.nc", "format")),
    ("netcdf-not-emit", lambda i, t: bad_nc(t), ("{tmp}/other.nc", "format")),
    (
        "netcdf-truncated",
        lambda i, t: truncated(emit_nc(i), t, "EMIT_L1B_RAD_cut.nc"),
        ("{tmp}/EMIT_L1B_RAD_cut.nc", "format", "truncated"),
    ),
    (
        "hdf5-header-only",
        lambda i, t: truncated(emit_nc(i), t, "cut.he5", 0.01),
        ("{tmp}/cut.he5", "format", "truncated"),
    ),
    ("enmap-folder-bad-xml", lambda i, t: _enmap_xml(t), ("METADATA.XML", "XML")),
    # the ENVI header text
    (
        "header-empty",
        lambda i, t: (write_text(t, "bad.hdr", ""), write_bytes(t, "bad", b""))[0],
        ("{tmp}/bad.hdr", "header"),
    ),
    (
        "header-not-envi",
        lambda i, t: (write_text(t, "bad.hdr", i.scene_hdr.read_text()[4:]), write_bytes(t, "bad", b""))[0],
        ("{tmp}/bad.hdr", "header", "ENVI"),
    ),
    ("header-binary", lambda i, t: (_png(t, "bad.hdr"), write_bytes(t, "bad", b""))[0], ("{tmp}/bad.hdr", "header")),
    (
        "header-brace-open",
        lambda i, t: (write_text(t, "bad.hdr", ENVI_FIELDS + "wavelength = {400, 500,\n"), write_bytes(t, "bad", b""))[
            0
        ],
        ("{tmp}/bad.hdr", "wavelength", "never closed"),
    ),
    # layout fields
    ("lines-zero", _h({"lines": "0"}), ("{tmp}/bad.hdr", "lines", "positive")),
    ("samples-negative", _h({"samples": "-32"}), ("{tmp}/bad.hdr", "samples")),
    ("bands-fraction", _h({"bands": "285.5"}), ("{tmp}/bad.hdr", "bands")),
    ("lines-text", _h({"lines": "thirty-two"}), ("{tmp}/bad.hdr", "lines")),
    ("lines-missing", _h({"lines": None}), ("{tmp}/bad.hdr", "lines", "missing")),
    ("data-type-unknown", _h({"data type": "7"}), ("{tmp}/bad.hdr", "data type")),
    ("data-type-missing", _h({"data type": None}), ("{tmp}/bad.hdr", "data type")),
    ("interleave-unknown", _h({"interleave": "bsi"}), ("{tmp}/bad.hdr", "interleave")),
    ("byte-order-two", _h({"byte order": "2"}), ("{tmp}/bad.hdr", "byte order")),
    ("header-offset-negative", _h({"header offset": "-8"}), ("{tmp}/bad.hdr", "header offset")),
    ("header-offset-past-end", _h({"header offset": "4096"}), ("{tmp}/bad", "data size")),
    ("data-type-int16-on-float", _h({"data type": "2"}), ("{tmp}/bad", "data size")),
    (
        "data-truncated",
        lambda i, t: data_copy(i, t, i.scene_hdr.with_suffix("").read_bytes()[:-4096]),
        ("{tmp}/bad", "data size", "truncated"),
    ),
    (
        "data-too-long",
        lambda i, t: data_copy(i, t, i.scene_hdr.with_suffix("").read_bytes() + b"\0" * 4),
        ("{tmp}/bad", "data size"),
    ),
    ("data-empty", lambda i, t: data_copy(i, t, b""), ("{tmp}/bad", "data size")),
    # spectral fields
    ("wavelength-missing", _h({"wavelength": None}), ("{tmp}/bad.hdr", "wavelength", "missing")),
    (
        "wavelength-count",
        lambda i, t: header_edit(i, t, {"wavelength": brace(wavelengths(i)[:-1])}),
        ("{tmp}/bad.hdr", "wavelength", "284 values for 285 bands"),
    ),
    (
        "wavelength-unsorted",
        lambda i, t: header_edit(i, t, {"wavelength": _shuffled(i)}),
        ("{tmp}/bad.hdr", "wavelength", "increasing"),
    ),
    (
        "wavelength-duplicate",
        lambda i, t: header_edit(i, t, {"wavelength": _repeated(i)}),
        ("{tmp}/bad.hdr", "wavelength", "increasing"),
    ),
    (
        "wavelength-text",
        lambda i, t: header_edit(i, t, {"wavelength": brace(["blue"] + wavelengths(i)[1:])}),
        ("{tmp}/bad.hdr", "wavelength", "blue"),
    ),
    (
        "wavelength-nan",
        lambda i, t: header_edit(i, t, {"wavelength": brace(["nan"] + wavelengths(i)[1:])}),
        ("{tmp}/bad.hdr", "wavelength"),
    ),
    (
        "wavelength-units-unknown",
        _h({"wavelength units": "furlongs"}),
        ("{tmp}/bad.hdr", "wavelength units", "furlongs"),
    ),
    ("wavelength-units-wrong", _h({"wavelength units": "Micrometers"}), ("{tmp}/bad.hdr", "wavelength", "nm")),
    ("fwhm-missing", _h({"fwhm": None}), ("{tmp}/bad.hdr", "fwhm", "missing")),
    (
        "fwhm-count",
        lambda i, t: header_edit(i, t, {"fwhm": brace(fwhms(i)[:5])}),
        ("{tmp}/bad.hdr", "fwhm", "5 values"),
    ),
    ("fwhm-negative", lambda i, t: header_edit(i, t, {"fwhm": _scaled(fwhms(i), -1.0, 7)}), ("{tmp}/bad.hdr", "fwhm")),
    ("fwhm-zero", lambda i, t: header_edit(i, t, {"fwhm": _scaled(fwhms(i), 0.0)}), ("{tmp}/bad.hdr", "fwhm")),
    (
        "fwhm-8500-nm",
        lambda i, t: header_edit(i, t, {"fwhm": _scaled(fwhms(i), 1000.0)}),
        ("{tmp}/bad.hdr", "fwhm", "8500"),
    ),
    # units, geometry, time, georeferencing
    ("data-units-unknown", _h({"data units": "{furlongs per fortnight}"}), ("{tmp}/bad.hdr", "data units")),
    ("data-ignore-value-text", _h({"data ignore value": "none"}), ("{tmp}/bad.hdr", "data ignore value")),
    ("solar-zenith-95", _h({"solar zenith": "95"}), ("{tmp}/bad.hdr", "solar zenith", "95")),
    ("solar-zenith-negative", _h({"solar zenith": "-10"}), ("{tmp}/bad.hdr", "solar zenith")),
    ("solar-zenith-text", _h({"solar zenith": "noon"}), ("{tmp}/bad.hdr", "solar zenith", "noon")),
    ("solar-zenith-nan", _h({"solar zenith": "nan"}), ("{tmp}/bad.hdr", "solar zenith")),
    ("sun-below-horizon", _h({"solar zenith": None, "sun elevation": "-5"}), ("{tmp}/bad.hdr", "sun elevation")),
    ("view-zenith-89", _h({"view zenith": "89"}), ("{tmp}/bad.hdr", "view zenith")),
    (
        "acquisition-time-text",
        _h({"acquisition time": "yesterday"}),
        ("{tmp}/bad.hdr", "acquisition time", "yesterday"),
    ),
    (
        "acquisition-time-month-13",
        _h({"acquisition time": "2026-13-45T18:30:00Z"}),
        ("{tmp}/bad.hdr", "acquisition time"),
    ),
    (
        "crs-string-garbage",
        _h({"coordinate system string": "{not a crs}"}),
        ("{tmp}/bad.hdr", "coordinate system string"),
    ),
    ("map-info-short", _h({"map info": "{UTM, 1, 1}"}), ("{tmp}/bad.hdr", "map info")),
    (
        "map-info-pixel-zero",
        _h({"map info": "{UTM, 1, 1, 754387.9, 3533492.3, 0, 60, 13, North, WGS-84}"}),
        ("{tmp}/bad.hdr", "map info"),
    ),
    (
        "map-info-zone-text",
        _h(
            {
                "map info": "{UTM, 1, 1, 754387.9, 3533492.3, 60, 60, thirteen, North, WGS-84}",
                "coordinate system string": None,
            }
        ),
        ("{tmp}/bad.hdr", "map info"),
    ),
    # the values in the data file
    ("all-fill", lambda i, t: cube_with(i, t, lambda c: np.full_like(c, -9999.0)), ("{tmp}/bad", "radiance", "fill")),
    ("all-nan", lambda i, t: cube_with(i, t, lambda c: np.full_like(c, np.nan)), ("{tmp}/bad", "radiance")),
    ("byte-swapped", _byte_swapped, ("{tmp}/bad.hdr", "byte order", "byte-swapped")),
    # companions (AVIRIS-NG style)
    ("obs-wrong-grid", lambda i, t: companion(i, t, "obs", lines=16, bands=11), ("{tmp}/bad_obs", "lines")),
    ("loc-truncated", lambda i, t: companion(i, t, "loc", data_type=5, size=100), ("{tmp}/bad_loc", "data size")),
    ("glt-one-band", lambda i, t: companion(i, t, "glt", bands=1, data_type=3), ("{tmp}/bad_glt", "bands")),
    # EMIT NetCDF content
    ("emit-wavelengths-unsorted", _emit_edit(_emit_wavelengths), ("{tmp}/EMIT_L1B_RAD_bad.nc", "wavelengths")),
    ("emit-radiance-units", _emit_edit(_emit_units), ("{tmp}/EMIT_L1B_RAD_bad.nc", "radiance units", "furlongs")),
    ("emit-no-fwhm", _emit_edit(_emit_drop("sensor_band_parameters/fwhm")), ("{tmp}/EMIT_L1B_RAD_bad.nc", "fwhm")),
    ("emit-all-fill", _emit_edit(_emit_fill), ("{tmp}/EMIT_L1B_RAD_bad.nc", "radiance", "fill")),
]


def _emit_attr(name: str, value: str):
    def edit(handle) -> None:
        handle.attrs[name] = value

    return edit


def _emit_fwhm_wide(handle) -> None:
    handle["sensor_band_parameters/fwhm"][...] = 5000.0


SCENES += [
    (
        "emit-time-garbage",
        _emit_edit(_emit_attr("time_coverage_start", "sometime in June")),
        ("{tmp}/EMIT_L1B_RAD_bad.nc", "time_coverage_start", "sometime in June"),
    ),
    (
        "emit-spatial-ref-garbage",
        _emit_edit(_emit_attr("spatial_ref", "not a crs")),
        ("{tmp}/EMIT_L1B_RAD_bad.nc", "spatial_ref"),
    ),
    ("emit-fwhm-too-wide", _emit_edit(_emit_fwhm_wide), ("{tmp}/EMIT_L1B_RAD_bad.nc", "fwhm", "5000")),
]
