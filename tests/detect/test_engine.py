"""Streaming engine: chunked/threaded/direct-read results equal the in-memory ones; ENVI window reads."""

from __future__ import annotations

import numpy as np
import pytest
from _detect_synthetic import disc_plume, synthetic_scene

from plumetrace.backend import cuda_available, get_backend
from plumetrace.detect.engine import detect_scene, select_window
from plumetrace.detect.reader import ArrayWindowReader, columns_first
from plumetrace.errors import InvalidFileError, InvalidInputError
from plumetrace.io.envi.cube import EnviCube
from plumetrace.io.envi.header import EnviLayout

WINDOW = (2100.0, 2480.0)


@pytest.fixture(scope="module")
def scene_with_plume():
    rows, cols = 150, 10
    truth = disc_plume(rows, cols, 1200.0, radius=4.0)
    return synthetic_scene(rows=rows, cols=cols, plume_ppm_m=truth, seed=21)


@pytest.mark.parametrize("method", ["mf", "ace"])
def test_robust_mode_streams_like_one_block(scene_with_plume, method):
    """The plume mask is a threshold: round-off may flip a pixel at its edge, which moves the statistics a little."""
    scene, _, _ = scene_with_plume
    whole = detect_scene(scene, method=method, window_nm=WINDOW, chunk_rows=10_000, n_threads=1)
    streamed = detect_scene(scene, method=method, window_nm=WINDOW, chunk_rows=7, n_threads=2)
    assert whole.attrs["robust_rounds"] == streamed.attrs["robust_rounds"] == 1
    assert (
        abs(whole.attrs["robust_masked_pixels"] - streamed.attrs["robust_masked_pixels"])
        <= 0.02 * whole.attrs["robust_masked_pixels"]
    )
    sigma = float(np.nanmean(whole.uncertainty.values))
    diff = np.abs(streamed.enhancement.values - whole.enhancement.values)
    assert np.nanquantile(diff, 0.98) < 0.05 * sigma
    assert np.nanmax(diff) < 0.1 * sigma


@pytest.mark.parametrize("method", ["mf", "sparse", "ace"])
def test_chunked_threaded_equals_single_block(scene_with_plume, method):
    scene, _, _ = scene_with_plume
    options = {} if method == "sparse" else {"robust": False}  # robust: see the test below
    whole = detect_scene(
        scene, method=method, window_nm=WINDOW, chunk_rows=10_000, n_threads=1, iterations=10, **options
    )
    streamed = detect_scene(scene, method=method, window_nm=WINDOW, chunk_rows=7, n_threads=2, iterations=10, **options)
    # Sums are accumulated in a different order (float32 block products), so results agree to a small fraction
    # of the noise, not bit for bit.
    sigma = float(np.nanmean(whole.uncertainty.values))
    diff = np.abs(streamed.enhancement.values - whole.enhancement.values)
    assert np.isnan(diff).sum() == np.isnan(whole.enhancement.values).sum()
    # The sparse filter's thresholds amplify round-off for the few pixels right at its ℓ1 threshold.
    assert np.nanquantile(diff, 0.98) < (0.05 if method == "sparse" else 0.02) * sigma
    assert np.nanmax(diff) < (0.5 if method == "sparse" else 0.02) * sigma
    for name in ("uncertainty", "albedo", "sensitivity"):
        np.testing.assert_allclose(streamed[name].values, whole[name].values, rtol=1e-2, err_msg=name)
    if method == "ace":
        np.testing.assert_allclose(streamed.ace_score.values, whole.ace_score.values, atol=0.01)


@pytest.mark.parametrize("interleave", ["bil", "bip", "bsq"])
def test_direct_envi_read_equals_array_path(tmp_path, scene_with_plume, interleave):
    from plumetrace.io.envi import read_envi, write_envi

    scene, _, _ = scene_with_plume
    path = write_envi(scene, tmp_path / f"scene_{interleave}.img", interleave=interleave)
    on_disk = read_envi(path)
    direct = detect_scene(on_disk, window_nm=WINDOW, chunk_rows=16)
    via_array = detect_scene(on_disk, window_nm=WINDOW, chunk_rows=16, direct_read=False)
    in_memory = detect_scene(scene, window_nm=WINDOW, chunk_rows=16)
    sigma = float(np.nanmean(in_memory.uncertainty.values))
    np.testing.assert_allclose(direct.enhancement.values, via_array.enhancement.values, atol=1e-3 * sigma)
    np.testing.assert_allclose(direct.enhancement.values, in_memory.enhancement.values, atol=0.01 * sigma)


@pytest.mark.parametrize("interleave", ["bil", "bip", "bsq"])
@pytest.mark.parametrize("byte_order", ["<", ">"])
def test_envi_window_reader_layouts(tmp_path, interleave, byte_order):
    rng = np.random.default_rng(0)
    lines, samples, bands = 9, 5, 12
    cube = rng.normal(size=(lines, samples, bands)).astype(np.float32)
    order = {"bil": (0, 2, 1), "bip": (0, 1, 2), "bsq": (2, 0, 1)}[interleave]
    path = tmp_path / "raw.img"
    header = b"\0" * 16
    path.write_bytes(header + np.ascontiguousarray(cube.transpose(order)).astype(byte_order + "f4").tobytes())
    layout = EnviLayout(lines, samples, bands, 16, np.dtype(byte_order + "f4"), interleave, None)
    reader = EnviCube(path, layout).window(3, 8)
    window = cube[2:6, :, 3:8]  # (row, col, band)
    expected = window if reader.layout == "rcb" else window.transpose(0, 2, 1)
    assert reader.layout == ("rcb" if interleave == "bip" else "rbc")
    block = reader.read(2, 6)
    np.testing.assert_array_equal(block, expected)
    assert block.flags.c_contiguous and block.dtype == np.float32
    reader.close()
    in_memory = ArrayWindowReader(cube, 3, 8)
    assert in_memory.layout == "rcb"
    np.testing.assert_array_equal(in_memory.read(2, 6), window)


def test_columns_first_matches_transpose():
    rng = np.random.default_rng(1)
    block = rng.normal(size=(21, 5, 7)).astype(np.float32)
    shift = rng.normal(size=(7, 5)).astype(np.float32)
    expected = block.transpose(2, 0, 1) - shift[:, None, :]
    np.testing.assert_array_equal(columns_first(block, shift), expected)
    buffer = np.empty((7, 32, 5), np.float32)
    np.testing.assert_array_equal(columns_first(block, shift, buffer), expected)


def test_envi_fill_value_becomes_nan(tmp_path):
    cube = np.ones((2, 3, 4), dtype=np.float32)
    cube[1, 2, :] = -9999.0
    path = tmp_path / "fill.img"
    path.write_bytes(np.ascontiguousarray(cube.transpose(0, 2, 1)).tobytes())
    reader = EnviCube(path, EnviLayout(2, 3, 4, 0, np.dtype("<f4"), "bil", -9999.0)).window(0, 4)
    block = reader.read(0, 2)
    assert np.all(np.isnan(block[1, :, 2])) and np.all(block[:, :, :2] == 1)


def test_select_window():
    wl = np.arange(2000.0, 2500.0, 10.0)
    assert select_window(wl, (2100, 2200)) == (10, 21)
    with pytest.raises(InvalidInputError, match="window_nm"):
        select_window(wl, (2600, 2700))
    with pytest.raises(InvalidInputError, match="window_nm"):
        select_window(wl, ("a", 3))  # type: ignore[arg-type]


def test_cpu_backend_is_numpy():
    assert get_backend("cpu").name == "numpy"


@pytest.mark.gpu
@pytest.mark.skipif(not cuda_available(), reason="no CUDA GPU visible to CuPy or PyTorch")
def test_cuda_matches_cpu(scene_with_plume):  # pragma: no cover - needs a GPU
    scene, _, _ = scene_with_plume
    cpu = detect_scene(scene, window_nm=WINDOW)
    gpu = detect_scene(scene, window_nm=WINDOW, device="cuda")
    np.testing.assert_allclose(gpu.enhancement.values, cpu.enhancement.values, rtol=1e-3, atol=0.5)


def test_cuda_without_gpu_is_a_clear_error(scene_with_plume):
    if cuda_available():
        pytest.skip("a GPU is present")
    scene, _, _ = scene_with_plume
    with pytest.raises(InvalidInputError, match="device: cuda requested"):
        detect_scene(scene, window_nm=WINDOW, device="cuda")


def test_backend_gram_matches_numpy():
    rng = np.random.default_rng(2)
    a = rng.normal(size=(3, 7, 4)).astype(np.float32)
    np.testing.assert_allclose(get_backend("cpu").gram(a), np.einsum("cnp,cnq->cpq", a, a), rtol=1e-5)


def test_column_range_statistics_equal_row_block_statistics():
    """The in-memory pass (column ranges through all blocks) sums the same block products as the row-block pass."""
    from plumetrace.backend import get_backend
    from plumetrace.detect.covariance import ShiftedSums
    from plumetrace.detect.statistics_pass import accumulate_blocks, accumulate_columns
    from plumetrace.detect.workers import column_chunks, row_blocks

    rng = np.random.default_rng(5)
    cube = (10.0 + rng.normal(size=(45, 37, 6))).astype(np.float32)
    cube[3, 4] = np.nan  # an invalid pixel
    cube[7, 30] *= 100.0  # flare
    reader = ArrayWindowReader(cube, 0, 6)
    assert reader.in_memory
    shift = cube[::9].mean(axis=0).astype(np.float32).astype(np.float64)
    shift[4] = 10.0
    brightness = np.full(37, 60.0)
    blocks = row_blocks(45, 8)
    rows = accumulate_blocks(reader, blocks, shift, brightness, 4.0, None, get_backend("cpu"), lambda *a: None)
    chunks = column_chunks(37, 2)
    assert len(chunks) == 3 and chunks[0][0] == 0 and chunks[-1][1] == 37
    cols = ShiftedSums.zeros(shift)
    accumulate_columns(reader, blocks, chunks, cols, brightness, 4.0, None, lambda n: None)
    np.testing.assert_array_equal(cols.count, rows.count)
    assert cols.count[4] == 44 and cols.count[30] == 44  # the NaN and the flare pixel are left out
    np.testing.assert_allclose(cols.sum1, rows.sum1, rtol=1e-12, atol=1e-9)
    np.testing.assert_allclose(cols.sum2, rows.sum2, rtol=1e-12, atol=1e-9)
    # and both agree with a float64 reference of Σ(x-k) and Σ(x-k)(x-k)ᵀ over the valid pixels
    d = cube.astype(np.float64) - shift[None]
    ok = np.isfinite(d).all(axis=2)
    ok[7, 30] = False
    d[~ok] = 0.0
    np.testing.assert_allclose(cols.sum2, np.einsum("rcb,rcd->cbd", d, d), rtol=1e-5, atol=1e-3)


class _RecordingReader(ArrayWindowReader):
    closed = 0

    def close(self) -> None:
        type(self).closed += 1


@pytest.mark.parametrize("stats", ["auto", "cluster"])
def test_reader_closed_when_the_retrieval_fails(stats):
    """A scene the filter cannot use is an error, and the file behind the reader is closed all the same."""
    from plumetrace.detect.engine import detect_window

    scene, _, _ = synthetic_scene(rows=40, cols=8)
    radiance = np.full(scene["radiance"].shape, np.nan, dtype=np.float32)  # no valid pixel
    _RecordingReader.closed = 0
    with pytest.raises(InvalidFileError, match="recorded.img: radiance: .*valid pixels"):
        detect_window(
            lambda b0, b1: _RecordingReader(radiance, b0, b1),
            scene["wavelength"].values,
            scene["fwhm"].values,
            airmass_factor=2.0,
            window_nm=WINDOW,
            stats=stats,
            progress=False,
            source="recorded.img",
        )
    assert _RecordingReader.closed == 1
    good = np.asarray(scene["radiance"].values, dtype=np.float32)
    arrays, _ = detect_window(
        lambda b0, b1: _RecordingReader(good, b0, b1),
        scene["wavelength"].values,
        scene["fwhm"].values,
        airmass_factor=2.0,
        window_nm=WINDOW,
        stats=stats,
        progress=False,
    )
    assert np.isfinite(arrays["enhancement"]).all() and _RecordingReader.closed == 2
