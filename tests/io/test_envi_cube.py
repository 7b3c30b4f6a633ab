"""The one raw-cube reader of ENVI files: lazy blocks and band-window reads agree, and the Scene hands it over."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from plumetrace.errors import InvalidInputError
from plumetrace.io.envi import (
    EnviCube,
    EnviLayout,
    read_envi,
    scene_window_reader,
    write_envi,
)
from plumetrace.scene import make_scene

WAVELENGTH_NM = np.array([2100.0, 2200.0, 2300.0, 2400.0, 2450.0])
FWHM_NM = np.full(5, 6.0)


def _file(tmp_path, interleave: str = "bil", dtype: str = "<f4", fill: float | None = None):
    cube = np.random.default_rng(4).uniform(1.0, 9.0, (6, 7, 5)).astype(np.float32)
    if fill is not None:
        cube[2, 3, :] = fill
    axes = {"bil": (0, 2, 1), "bip": (0, 1, 2), "bsq": (2, 0, 1)}[interleave]
    path = tmp_path / f"raw_{interleave}.img"
    path.write_bytes(np.ascontiguousarray(cube.transpose(axes)).astype(dtype).tobytes())
    return cube, EnviCube(path, EnviLayout(6, 7, 5, 0, np.dtype(dtype), interleave, fill), scale=2.0)


@pytest.mark.parametrize("interleave", ["bil", "bip", "bsq"])
@pytest.mark.parametrize("dtype", ["<f4", ">f4", "<i2"])
def test_window_reads_equal_the_lazy_blocks_in_file_units(tmp_path, interleave, dtype):
    cube, raw = _file(tmp_path, interleave, dtype)
    expected = cube.astype(dtype).astype(np.float32)
    np.testing.assert_array_equal(raw[1:4, :, 1:4], expected[1:4, :, 1:4] * np.float32(2.0))  # scaled
    reader = raw.window(1, 4)
    assert (reader.n_lines, reader.n_samples, reader.n_bands) == (6, 7, 3)
    block = reader.read(1, 4)
    rows = expected[1:4, :, 1:4]
    np.testing.assert_array_equal(block, rows if reader.layout == "rcb" else rows.transpose(0, 2, 1))
    assert block.dtype == np.float32 and block.flags.c_contiguous
    np.testing.assert_array_equal(reader[:, :, :], expected[:, :, 1:4] * np.float32(2.0))  # the window's own array
    reader.close()


def test_fill_value_is_nan_in_both_reads(tmp_path):
    _, raw = _file(tmp_path, fill=-9999.0)
    assert np.isnan(raw[2, 3]).all() and not np.isnan(raw[2, 2]).any()
    block = raw.window(0, 5).read(0, 6)  # (row, band, col)
    assert np.isnan(block[2, :, 3]).all() and np.isfinite(block[2, :, 2]).all()


def test_window_outside_the_bands_is_refused(tmp_path):
    _, raw = _file(tmp_path)
    with pytest.raises(InvalidInputError, match="bands"):
        raw.window(3, 6)
    with pytest.raises(InvalidInputError, match="bands"):
        raw.window(1, 3).window(0, 3)


def test_an_open_reader_pickles_without_its_file(tmp_path):
    _, raw = _file(tmp_path)
    reader = raw.window(0, 5)
    first = reader.read(0, 2)
    copy = pickle.loads(pickle.dumps(reader))
    np.testing.assert_array_equal(copy.read(0, 2), first)  # reopens on first read
    copy.close()
    reader.close()


def test_scene_hands_its_cube_to_the_detectors_until_reshaped(tmp_path):
    radiance = np.random.default_rng(1).uniform(1.0, 9.0, (8, 6, 5)).astype(np.float32)
    path = write_envi(make_scene(radiance, WAVELENGTH_NM, FWHM_NM), tmp_path / "s.img", interleave="bsq")
    scene = read_envi(path)
    reader = scene_window_reader(scene, 1, 3)
    assert isinstance(reader, EnviCube)
    np.testing.assert_array_equal(reader.read(2, 5), radiance[2:5, :, 1:3].transpose(0, 2, 1))
    reader.close()
    assert scene_window_reader(scene.isel(y=slice(0, 4)), 1, 3) is None  # a subset is not the file
    assert scene_window_reader(make_scene(radiance, WAVELENGTH_NM, FWHM_NM), 1, 3) is None  # in memory
