"""Accelerator back-end: the CuPy/PyTorch code path of the engine against the NumPy reference.

No GPU is needed for most of it: ``device="torch:cpu"`` runs the very calls the engine makes on a CUDA device
(tensors made with ``torch.as_tensor``, batched ``matmul`` products, a float64 running sum on the device, copy back)
on CPU tensors. These tests skip when PyTorch is not installed (CI does not install it). The ``cuda`` and
``torch:cuda`` cases run the same comparisons on a GPU and skip without one (marker ``gpu``). CuPy has no CPU mode:
its branch runs here on a NumPy stand-in (the logic, not CuPy itself).

Tolerances: with the same statistics path, the two back-ends differ only by float32 rounding inside the block
products (different GEMM kernels), amplified by the conditioning of the covariance: a 1e-3 fraction of the noise σ
for the enhancement and ~1e-5 relative for uncertainty and sensitivity. The GPU cases get the tolerance the engine
already accepts between different block sizes (tests/detect/test_engine.py: 0.02 σ).
"""

from __future__ import annotations

import numpy as np
import pytest
from _detect_synthetic import disc_plume, synthetic_scene

from plumetrace.backend import QUALIFIED_DEVICES, Backend, cuda_available, get_backend, torch_available
from plumetrace.detect.engine import detect_scene
from plumetrace.errors import InvalidInputError

WINDOW = (2100.0, 2480.0)
PRODUCTS = ("enhancement", "uncertainty", "albedo", "sensitivity")

needs_torch = pytest.mark.skipif(
    not torch_available(), reason="PyTorch is not installed (extra gpu-torch; CI has none)"
)


def _torch_cuda() -> bool:
    if not torch_available():
        return False
    import torch

    return bool(torch.cuda.is_available())


ACCELERATED = [
    pytest.param("torch:cpu", marks=needs_torch, id="torch-cpu"),
    pytest.param(
        "cuda", marks=[pytest.mark.gpu, pytest.mark.skipif(not cuda_available(), reason="no CUDA GPU")], id="cuda"
    ),
    pytest.param(
        "torch:cuda",
        marks=[pytest.mark.gpu, pytest.mark.skipif(not _torch_cuda(), reason="no CUDA GPU for PyTorch")],
        id="torch-cuda",
    ),
]


def _tolerance(device: str, cpu_sigma: float, gpu_sigma: float = 0.02) -> float:
    return cpu_sigma if device == "torch:cpu" else max(cpu_sigma, gpu_sigma)


@pytest.fixture(scope="module")
def scene_with_plume():
    rows, cols = 150, 10
    truth = disc_plume(rows, cols, 1200.0, radius=4.0)
    return synthetic_scene(rows=rows, cols=cols, plume_ppm_m=truth, seed=21)


@pytest.fixture
def counted_add_gram(monkeypatch):
    """Counts the block products that go through the device kernel (proves the accelerator path ran)."""
    calls: list[str] = []
    original = Backend.add_gram

    def spy(self, acc, a):
        calls.append(self.name)
        return original(self, acc, a)

    monkeypatch.setattr(Backend, "add_gram", spy)
    return calls


# --- selecting a back-end ---------------------------------------------------------------------------------------


def test_cpu_and_numpy_cpu_are_numpy():
    for device in ("cpu", "numpy:cpu"):
        backend = get_backend(device)
        assert (backend.name, backend.device) == ("numpy", "cpu")


def test_unknown_device_is_an_error():
    with pytest.raises(InvalidInputError, match="device: 'tpu'"):
        get_backend("tpu")
    with pytest.raises(InvalidInputError, match="device"):
        get_backend("torch:tpu")


def test_torch_cpu_without_torch_is_an_error(monkeypatch):
    import plumetrace.backend as backend_module

    monkeypatch.setattr(backend_module, "_torch", lambda **_: None)
    with pytest.raises(InvalidInputError, match="device: torch:cpu requested but PyTorch is not installed"):
        get_backend("torch:cpu")


def test_cupy_without_gpu_is_an_error():
    if cuda_available():
        pytest.skip("a GPU is present")
    with pytest.raises(InvalidInputError, match="device: cupy:cuda requested"):
        get_backend("cupy:cuda")


@pytest.mark.parametrize("device", QUALIFIED_DEVICES)
def test_qualified_device_gives_that_library_or_a_clear_error(device):
    """``LIBRARY:DEVICE`` pins the library: that back-end, or a one-line error naming the device — never another."""
    library, where = device.split(":")
    try:
        backend = get_backend(device)
    except InvalidInputError as exc:
        assert str(exc).startswith(f"device: {device} requested") and "\n" not in str(exc)
        assert library != "numpy"
    else:
        assert (backend.name, backend.device) == (library, where)


# --- the kernels --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("device", ["cpu", *ACCELERATED])
def test_add_gram_is_float32_product_summed_in_float64(device):
    rng = np.random.default_rng(3)
    blocks = [(100.0 + rng.normal(size=(6, 9, 5))).astype(np.float32) for _ in range(3)]
    backend = get_backend(device)
    acc = None
    for block in blocks:
        acc = backend.add_gram(acc, backend.asarray(block))
    result = backend.to_numpy(acc)
    assert isinstance(result, np.ndarray) and result.dtype == np.float64 and result.shape == (6, 5, 5)
    exact = sum(np.einsum("cnp,cnq->cpq", b.astype(np.float64), b.astype(np.float64)) for b in blocks)
    # each product carries float32 rounding (~1e-7 relative), the sum adds none of its own
    np.testing.assert_allclose(result, exact, rtol=2e-6)
    np.testing.assert_allclose(result, result.transpose(0, 2, 1), rtol=1e-6)


@needs_torch
def test_torch_cpu_round_trip_keeps_values():
    backend = get_backend("torch:cpu")
    array = np.arange(24, dtype=np.float32).reshape(2, 3, 4)[:, :, ::2]  # not contiguous
    tensor = backend.asarray(array)
    assert str(tensor.device) == "cpu" and backend.name == "torch"
    np.testing.assert_array_equal(backend.to_numpy(tensor), array)
    np.testing.assert_array_equal(backend.to_numpy(backend.gram(tensor)), np.einsum("cnp,cnq->cpq", array, array))
    backend.synchronize()  # no CUDA call on a CPU tensor


# --- the engine end to end ----------------------------------------------------------------------------------------


def _assert_products_match(result, reference, *, enhancement_sigma: float, rtol: float) -> None:
    sigma = float(np.nanmean(reference.uncertainty.values))
    for name in PRODUCTS:
        np.testing.assert_array_equal(np.isnan(result[name].values), np.isnan(reference[name].values), err_msg=name)
        assert result[name].dtype == np.float32, name
    diff = np.abs(result.enhancement.values - reference.enhancement.values)
    assert np.nanmax(diff) < enhancement_sigma * sigma, f"max |Δ| = {np.nanmax(diff) / sigma:.2g} σ"
    for name in ("uncertainty", "albedo", "sensitivity"):
        np.testing.assert_allclose(result[name].values, reference[name].values, rtol=rtol, err_msg=name)


@pytest.mark.parametrize("device", ACCELERATED)
@pytest.mark.parametrize(
    "method, stats, enhancement_sigma, rtol",
    [
        ("mf", "column", 1e-3, 1e-5),
        ("ace", "column", 1e-3, 1e-5),
        # the sparse filter's ℓ1 thresholds amplify round-off for pixels right at the threshold
        ("sparse", "column", 0.02, 1e-3),
        ("mf", "group", 1e-3, 1e-5),
    ],
)
def test_accelerated_engine_matches_numpy(
    scene_with_plume, counted_add_gram, device, method, stats, enhancement_sigma, rtol
):
    scene, _, _ = scene_with_plume
    options = dict(method=method, stats=stats, window_nm=WINDOW, chunk_rows=32, iterations=10)
    if method != "sparse":
        options["robust"] = False  # a threshold on the estimate: see test_default_options_match_numpy
    reference = detect_scene(scene, **options)
    assert not counted_add_gram  # NumPy never goes through the device kernel
    result = detect_scene(scene, device=device, **options)
    assert len(counted_add_gram) == 5 and set(counted_add_gram) == {get_backend(device).name}  # 150 rows / 32
    for key in ("method", "stats", "columns_per_group", "window_bands"):
        assert result.attrs[key] == reference.attrs[key], key
    _assert_products_match(
        result, reference, enhancement_sigma=_tolerance(device, enhancement_sigma), rtol=_tolerance(device, rtol, 1e-3)
    )
    if method == "ace":
        np.testing.assert_allclose(
            result.ace_score.values, reference.ace_score.values, atol=_tolerance(device, 1e-4, 0.01)
        )


@pytest.mark.parametrize("device", ACCELERATED)
def test_accelerated_scene_stats_match_numpy(scene_with_plume, device):
    """Scene-wide statistics: on a device the per-column sums are pooled (exact), on the CPU one product per block
    over all pixels is taken. Both are the same statistics; the pooled ones equal NumPy's one-group result tightly,
    and NumPy's own scene-wide path to within its float32 rounding."""
    scene, _, _ = scene_with_plume
    n_col = scene.sizes["x"]
    options = dict(window_nm=WINDOW, chunk_rows=32, robust=False)
    result = detect_scene(scene, stats="scene", device=device, **options)
    assert result.attrs["stats"] == "scene"
    pooled = detect_scene(scene, stats="group", group_columns=n_col, **options)
    _assert_products_match(
        result, pooled, enhancement_sigma=_tolerance(device, 1e-3), rtol=_tolerance(device, 1e-5, 1e-3)
    )
    scene_wide = detect_scene(scene, stats="scene", **options)
    _assert_products_match(result, scene_wide, enhancement_sigma=0.02, rtol=1e-3)


@pytest.mark.parametrize("device", ACCELERATED)
@pytest.mark.parametrize("method", ["mf", "ace"])
def test_default_options_match_numpy(scene_with_plume, device, method):
    """Robust mode on (the default): the plume mask is a threshold, so round-off can flip a pixel at its edge."""
    scene, truth, _ = scene_with_plume
    reference = detect_scene(scene, method=method, window_nm=WINDOW)
    result = detect_scene(scene, method=method, window_nm=WINDOW, device=device)
    assert result.attrs["robust_rounds"] == reference.attrs["robust_rounds"] == 1
    sigma = float(np.nanmean(reference.uncertainty.values))
    diff = np.abs(result.enhancement.values - reference.enhancement.values)
    assert np.nanquantile(diff, 0.98) < 0.05 * sigma and np.nanmax(diff) < 0.1 * sigma
    # and both find the plume: mean retrieval inside the disc within 15 % of the truth
    inside = truth > 0
    assert np.nanmean(result.enhancement.values[inside]) == pytest.approx(truth[inside].mean(), rel=0.15)


@pytest.mark.parametrize("device", ACCELERATED)
@pytest.mark.parametrize("method", ["mf", "sparse"])
def test_accelerated_direct_bil_read_matches_numpy(tmp_path, scene_with_plume, counted_add_gram, device, method):
    """BIL file read directly (row, band, column blocks): the device path reorders them columns-first itself."""
    from plumetrace.io.envi import read_envi, write_envi

    scene, _, _ = scene_with_plume
    on_disk = read_envi(write_envi(scene, tmp_path / "scene.img", interleave="bil"))
    options = dict(method=method, stats="column", window_nm=WINDOW, chunk_rows=16, iterations=10, robust=False)
    if method == "sparse":
        del options["robust"]
    reference = detect_scene(on_disk, **options)
    result = detect_scene(on_disk, device=device, **options)
    assert len(counted_add_gram) == 10  # 150 rows / 16: the direct reader fed the device kernel
    _assert_products_match(
        result,
        reference,
        enhancement_sigma=_tolerance(device, 0.02 if method == "sparse" else 1e-3),
        rtol=_tolerance(device, 1e-3 if method == "sparse" else 1e-5, 1e-3),
    )


def _numpy_standing_in_for_cupy():
    """The few CuPy calls the back-end makes, with NumPy semantics (CuPy mirrors NumPy; ``asarray`` copies to the
    device, so the stand-in copies too)."""
    from types import SimpleNamespace

    stream = SimpleNamespace(null=SimpleNamespace(synchronize=lambda: None))
    return SimpleNamespace(
        asarray=lambda a: np.array(a, copy=True),
        asnumpy=np.asarray,
        matmul=np.matmul,
        swapaxes=np.swapaxes,
        cuda=SimpleNamespace(Stream=stream),
    )


def test_cupy_branch_logic_with_a_numpy_stand_in(monkeypatch, scene_with_plume, counted_add_gram):
    """Not CuPy itself (it has no CPU mode): the engine's and the back-end's CuPy branch, run on a NumPy stand-in,
    gives NumPy's products. The real CuPy run is in the GPU checklist (docs/detect.md)."""
    import plumetrace.backend as backend_module

    monkeypatch.setattr(backend_module, "_cupy", _numpy_standing_in_for_cupy)
    assert get_backend("cuda").name == "cupy" and get_backend("cupy:cuda").name == "cupy"
    scene, _, _ = scene_with_plume
    options = dict(method="mf", stats="column", window_nm=WINDOW, chunk_rows=32, robust=False)
    reference = detect_scene(scene, **options)
    result = detect_scene(scene, device="cuda", **options)
    assert counted_add_gram == ["cupy"] * 5
    _assert_products_match(result, reference, enhancement_sigma=1e-3, rtol=1e-5)
    get_backend("cuda").synchronize()


# --- command line -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def envi_path(tmp_path_factory, scene_with_plume):
    from plumetrace.io.envi import write_envi

    scene, _, _ = scene_with_plume
    return write_envi(scene, tmp_path_factory.mktemp("envi") / "scene.img")


@pytest.mark.parametrize(
    "device, message",
    [
        ("tpu", "device: 'tpu'"),
        pytest.param(
            "cuda", "device: cuda requested", marks=pytest.mark.skipif(cuda_available(), reason="a GPU is present")
        ),
    ],
)
def test_cli_bad_device_exit_2_and_nothing_written(run_cli, tmp_path, envi_path, device, message):
    out = tmp_path / "out"
    code, _, stderr = run_cli("detect", envi_path, "--out", out, "--device", device, "--window", "2100,2480")
    assert code == 2
    assert message in stderr and len(stderr.strip().splitlines()) == 1
    assert not out.exists() and not list(tmp_path.glob(".out.partial-*"))
