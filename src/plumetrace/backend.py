"""Array namespace for heavy kernels: NumPy by default, CuPy (or PyTorch) on a CUDA device when asked.

CPU NumPy is the reference. ``device="cuda"`` picks CuPy when it is installed and sees a GPU, else PyTorch with CUDA;
neither is a core dependency (extra ``[gpu]``). Kernels written against :class:`Backend` use only ``asarray``,
``matmul``, ``to_numpy`` and NumPy-compatible reductions on the arrays they get.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from plumetrace.errors import InvalidInputError

__all__ = ["DEVICES", "Backend", "get_backend", "cuda_available"]

DEVICES = ("cpu", "cuda")


@dataclass(frozen=True)
class Backend:
    """An array library and how to move data to and from it.

    Attributes
    ----------
    name : "numpy", "cupy" or "torch"
    device : "cpu" or "cuda"
    """

    name: str
    device: str
    module: Any

    def asarray(self, array: np.ndarray) -> Any:
        """Move a NumPy array to the device (no copy on CPU)."""
        if self.name == "numpy":
            return array
        if self.name == "cupy":
            return self.module.asarray(array)
        return self.module.as_tensor(np.ascontiguousarray(array), device="cuda")

    def to_numpy(self, array: Any) -> np.ndarray:
        """Bring an array back to host memory."""
        if self.name == "numpy":
            return np.asarray(array)
        if self.name == "cupy":
            return self.module.asnumpy(array)
        return array.detach().cpu().numpy()

    def matmul(self, a: Any, b: Any) -> Any:
        """Batched matrix product."""
        return self.module.matmul(a, b)

    def gram(self, a: Any) -> Any:
        """Batched ``aᵀa`` over the last two axes (``a``: (..., n, p) → (..., p, p))."""
        if self.name == "torch":
            return self.module.matmul(a.transpose(-1, -2), a)
        return self.module.matmul(self.module.swapaxes(a, -1, -2), a)

    def synchronize(self) -> None:
        """Wait for queued device work (no-op on CPU)."""
        if self.name == "cupy":
            self.module.cuda.Stream.null.synchronize()
        elif self.name == "torch":
            self.module.cuda.synchronize()


def _cupy() -> Any | None:
    try:
        import cupy  # type: ignore[import-not-found]

        if cupy.cuda.runtime.getDeviceCount() > 0:
            return cupy
    except Exception:
        return None
    return None


def _torch() -> Any | None:
    try:
        import torch  # type: ignore[import-not-found]

        if torch.cuda.is_available():
            return torch
    except Exception:
        return None
    return None


def cuda_available() -> bool:
    """Whether a CUDA device can be used through CuPy or PyTorch."""
    return _cupy() is not None or _torch() is not None


def get_backend(device: str = "cpu") -> Backend:
    """The backend for ``device``.

    Raises
    ------
    InvalidInputError
        Unknown device, or ``cuda`` without CuPy/PyTorch and a visible GPU.
    """
    if device not in DEVICES:
        raise InvalidInputError("device", f"{device!r}; expected one of {', '.join(DEVICES)}")
    if device == "cpu":
        return Backend("numpy", "cpu", np)
    cupy = _cupy()
    if cupy is not None:
        return Backend("cupy", "cuda", cupy)
    torch = _torch()
    if torch is not None:
        return Backend("torch", "cuda", torch)
    raise InvalidInputError("device", "cuda requested but no CUDA GPU is visible to CuPy or PyTorch (pip install plumetrace[gpu])")
