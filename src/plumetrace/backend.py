"""Array namespace for heavy kernels: NumPy by default, CuPy (or PyTorch) on a CUDA device when asked.

CPU NumPy is the reference. ``device="cuda"`` picks CuPy when it is installed and sees a GPU, else PyTorch with CUDA;
neither is a core dependency (extra ``[gpu]``). Kernels written against :class:`Backend` use only ``asarray``,
``gram``/``add_gram``, ``matmul`` and ``to_numpy``.

Besides the two user-facing devices (:data:`DEVICES`), :func:`get_backend` accepts a library-qualified form
``"LIBRARY:DEVICE"`` (:data:`QUALIFIED_DEVICES`: ``numpy:cpu``, ``torch:cpu``, ``torch:cuda``, ``cupy:cuda``). It
pins the library — ``torch:cuda`` where CuPy is also installed — and ``torch:cpu`` runs the accelerator code path
(the same calls, on a CPU tensor) without a GPU, which is how the tests verify that path on machines with none.
There is no CPU-only way to run CuPy (it needs the CUDA runtime and a device). PyTorch on the CPU is not faster than
NumPy here, so the command line offers only ``cpu`` and ``cuda``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from plumetrace.errors import InvalidInputError

__all__ = ["DEVICES", "QUALIFIED_DEVICES", "Backend", "get_backend", "cuda_available", "torch_available"]

#: What users choose from (``plumetrace detect --device``).
DEVICES = ("cpu", "cuda")
#: Library-qualified devices (library API and tests; ``torch:cpu`` verifies the accelerator path without a GPU).
QUALIFIED_DEVICES = ("numpy:cpu", "torch:cpu", "torch:cuda", "cupy:cuda")


@dataclass(frozen=True)
class Backend:
    """An array library, the device it computes on, and how to move data to and from it.

    Attributes
    ----------
    name : "numpy", "cupy" or "torch"
    device : "cpu" or "cuda"
        For ``torch``, the torch device string its tensors are made on.
    module : the library's module
    """

    name: str
    device: str
    module: Any

    def asarray(self, array: np.ndarray) -> Any:
        """Move a NumPy array to the device (no copy for NumPy; a CPU tensor may share the array's memory)."""
        if self.name == "numpy":
            return array
        if self.name == "cupy":
            return self.module.asarray(array)
        return self.module.as_tensor(np.ascontiguousarray(array), device=self.device)

    def to_numpy(self, array: Any) -> np.ndarray:
        """Bring an array back to host memory as a NumPy array."""
        if self.name == "numpy":
            return np.asarray(array)
        if self.name == "cupy":
            return self.module.asnumpy(array)
        return array.detach().cpu().numpy()

    def matmul(self, a: Any, b: Any) -> Any:
        """Batched matrix product."""
        return self.module.matmul(a, b)

    def gram(self, a: Any) -> Any:
        """Batched ``aᵀa`` over the last two axes (``a``: (..., n, p) → (..., p, p)), in ``a``'s precision."""
        if self.name == "torch":
            return self.module.matmul(a.transpose(-1, -2), a)
        return self.module.matmul(self.module.swapaxes(a, -1, -2), a)

    def add_gram(self, acc: Any | None, a: Any) -> Any:
        """``acc + aᵀa``: the product in ``a``'s precision (float32), the running sum in float64 on the device.

        The same arithmetic as the NumPy path (float32 block products summed in float64). ``acc`` None starts a sum.
        """
        product = self.gram(a)
        if self.name == "torch":
            product = product.to(self.module.float64)
        else:
            product = product.astype(np.float64)
        if acc is None:
            return product
        acc += product
        return acc

    def synchronize(self) -> None:
        """Wait for queued device work (no-op on the CPU)."""
        if self.name == "cupy":
            self.module.cuda.Stream.null.synchronize()
        elif self.name == "torch" and self.device.startswith("cuda"):
            self.module.cuda.synchronize()


def _cupy() -> Any | None:
    try:
        import cupy  # type: ignore[import-not-found]

        if cupy.cuda.runtime.getDeviceCount() > 0:
            return cupy
    except Exception:
        return None
    return None


def _torch(*, cuda: bool = True) -> Any | None:
    try:
        import torch  # type: ignore[import-not-found]
    except Exception:
        return None
    try:
        if not cuda or torch.cuda.is_available():
            return torch
    except Exception:
        return None
    return None


def cuda_available() -> bool:
    """Whether a CUDA device can be used through CuPy or PyTorch."""
    return _cupy() is not None or _torch() is not None


def torch_available() -> bool:
    """Whether PyTorch can be imported (on any device: ``torch:cpu`` needs no GPU)."""
    return _torch(cuda=False) is not None


def get_backend(device: str = "cpu") -> Backend:
    """The backend for ``device``.

    Parameters
    ----------
    device : str
        ``"cpu"`` (NumPy), ``"cuda"`` (CuPy, else PyTorch, on the GPU), or a library-qualified device from
        :data:`QUALIFIED_DEVICES` (``"torch:cpu"`` runs the accelerator path on the CPU, for verification).

    Raises
    ------
    InvalidInputError
        Unknown device, or a library/GPU that is not available.
    """
    if device not in DEVICES and device not in QUALIFIED_DEVICES:
        raise InvalidInputError("device", f"{device!r}; expected one of {', '.join(DEVICES)}")
    if device in ("cpu", "numpy:cpu"):
        return Backend("numpy", "cpu", np)
    if device == "torch:cpu":
        torch = _torch(cuda=False)
        if torch is None:
            raise InvalidInputError("device", "torch:cpu requested but PyTorch is not installed")
        return Backend("torch", "cpu", torch)
    if device in ("cuda", "cupy:cuda"):
        cupy = _cupy()
        if cupy is not None:
            return Backend("cupy", "cuda", cupy)
        if device == "cupy:cuda":
            raise InvalidInputError(
                "device", "cupy:cuda requested but CuPy sees no CUDA GPU (pip install plumetrace[gpu])"
            )
    torch = _torch()
    if torch is not None:
        return Backend("torch", "cuda", torch)
    raise InvalidInputError(
        "device", f"{device} requested but no CUDA GPU is visible to CuPy or PyTorch (pip install plumetrace[gpu])"
    )
