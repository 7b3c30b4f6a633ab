"""The raw cube of an ENVI data file: lazy blocks for a Scene, band-window row blocks for the detectors.

One reader, :class:`EnviCube`, serves both:

* ``cube[key]`` (NumPy basic indexing over ``(line, sample, band)``) maps the file for that block only, copies it and
  converts it to physical values (``scale``, ``data ignore value`` → NaN). Dask (:func:`dask_array`) or xarray's
  lazy indexing (:func:`plumetrace.io.envi.reader.lazy_variable`) build the Scene's lazy radiance on it; the cube
  holds no open file, so dask graphs pickle it cheaply.
* :meth:`EnviCube.window` opens a reader of bands ``band0:band1`` whose :meth:`~EnviCube.read` fills row blocks with
  ``os.preadv`` into a reused buffer — for BIL only the window bands of each line (one contiguous run per line), for
  BSQ one run per band, for BIP whole lines. Nothing is memory-mapped, so resident memory stays at the size of a few
  blocks whatever the file size. It satisfies the detectors' ``WindowReader`` protocol
  (:mod:`plumetrace.detect.reader`).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from plumetrace.errors import InvalidInputError
from plumetrace.io.envi.header import (
    EnviLayout,
    envi_layout,
    find_envi_files,
    read_envi_header,
)

if TYPE_CHECKING:
    import dask.array as da

__all__ = ["CHUNK_BYTES", "EnviCube", "dask_array", "open_envi_cube", "open_envi_raw", "rows_per_chunk"]

#: Target size of one row chunk of float32 radiance, bytes.
CHUNK_BYTES = 32 * 2**20

_FILE_AXES = {"bil": (0, 2, 1), "bip": (0, 1, 2), "bsq": (1, 2, 0)}  # file array → (line, sample, band)


def rows_per_chunk(samples: int, bands: int, itemsize: int = 4) -> int:
    """Lines per chunk of about :data:`CHUNK_BYTES` (1-4096)."""
    return int(max(1, min(4096, CHUNK_BYTES // max(1, samples * bands * itemsize))))


class EnviCube:
    """Bands ``band0:band1`` of an ENVI data file as a ``(line, sample, band)`` array.

    Parameters
    ----------
    path : path
        The ENVI data file.
    file : EnviLayout
        Its layout (:func:`plumetrace.io.envi.header.envi_layout`).
    scale : float, keyword-only
        Factor applied by ``cube[key]`` (unit conversion); :meth:`read` returns the file's units.
    apply_ignore : bool, keyword-only
        ``data ignore value`` → NaN (floating output only).
    out_dtype : dtype, keyword-only
        Type of ``cube[key]`` blocks (``None``: the file's type in native byte order); :meth:`read` gives float32.
    band0, band1 : int, keyword-only
        The band window (default: all bands).

    Attributes
    ----------
    shape, dtype, ndim
        Of the array ``cube[key]`` indexes.
    n_lines, n_samples, n_bands, fill_value, layout
        The ``WindowReader`` protocol: ``layout`` is ``"rbc"`` (row, band, column: BIL and BSQ files) or ``"rcb"``
        (BIP) — the block layout cheapest to read.
    """

    def __init__(
        self,
        path: str | Path,
        file: EnviLayout,
        *,
        scale: float = 1.0,
        apply_ignore: bool = True,
        out_dtype: Any = np.float32,
        band0: int = 0,
        band1: int | None = None,
    ) -> None:
        band1 = file.bands if band1 is None else int(band1)
        if not 0 <= band0 < band1 <= file.bands:
            raise InvalidInputError("bands", f"window {band0}:{band1} is not inside the file's {file.bands} bands")
        self.path = Path(path)
        self.file = file
        self.scale = scale
        self.apply_ignore = apply_ignore
        self.dtype = np.dtype(out_dtype) if out_dtype is not None else file.dtype.newbyteorder("=")
        self.band0, self.band1 = int(band0), band1
        self.shape = (file.lines, file.samples, band1 - band0)
        self.ndim = 3
        self.n_lines, self.n_samples, self.n_bands = self.shape
        self.fill_value = file.ignore_value if apply_ignore else None
        self.layout = "rcb" if file.interleave == "bip" else "rbc"
        self._fd = -1
        self._lock = threading.Lock()

    # ------------------------------------------------------------------------------------------ lazy blocks

    def __getitem__(self, key: Any) -> np.ndarray:
        """A block of physical values (a fresh array of ``dtype``): the file is mapped for this block only, so the
        resident memory of a long streaming pass stays bounded by the blocks in flight."""
        file = self.file
        file_shape = {
            "bil": (file.lines, file.bands, file.samples),
            "bip": (file.lines, file.samples, file.bands),
            "bsq": (file.bands, file.lines, file.samples),
        }[file.interleave]
        raw = np.memmap(self.path, dtype=file.dtype, mode="r", offset=file.offset, shape=file_shape)
        view = raw.transpose(_FILE_AXES[file.interleave])
        if (self.band0, self.band1) != (0, file.bands):
            view = view[:, :, self.band0 : self.band1]
        try:
            block = np.array(view[key], copy=True)
        finally:
            del view
            mapping = getattr(raw, "_mmap", None)
            del raw
            if mapping is not None:
                mapping.close()
        out = block.astype(self.dtype, copy=False)
        if self.fill_value is not None and np.issubdtype(self.dtype, np.floating):
            out[block == self.fill_value] = np.nan
        if self.scale != 1.0:
            out *= self.dtype.type(self.scale)
        return out

    # ------------------------------------------------------------------------------------------ window reads

    def window(self, band0: int, band1: int) -> EnviCube:
        """An open reader of bands ``band0:band1`` of this cube (close it with :meth:`close`).

        Raises
        ------
        InvalidInputError
            A window outside the cube's bands.
        """
        if not 0 <= band0 < band1 <= self.n_bands:
            raise InvalidInputError("bands", f"window {band0}:{band1} is not inside the cube's {self.n_bands} bands")
        reader = EnviCube(
            self.path,
            self.file,
            scale=self.scale,
            apply_ignore=self.apply_ignore,
            out_dtype=self.dtype,
            band0=self.band0 + band0,
            band1=self.band0 + band1,
        )
        reader._open()
        return reader

    def _open(self) -> int:
        with self._lock:
            if self._fd < 0:
                self._fd = os.open(self.path, os.O_RDONLY)
            return self._fd

    def close(self) -> None:
        """Close the file a :meth:`read` opened (reading again reopens it)."""
        with self._lock:
            if self._fd >= 0:
                os.close(self._fd)
                self._fd = -1

    def __del__(self) -> None:  # pragma: no cover - best effort
        try:
            self.close()
        except (OSError, AttributeError, TypeError):  # at interpreter exit os may already be torn down
            pass

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_fd"], state["_lock"] = -1, None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    def _pread_into(self, fd: int, buffer: np.ndarray, position: int) -> None:
        view = memoryview(buffer.reshape(-1).view(np.uint8))
        done = 0
        while done < view.nbytes:
            got = os.preadv(fd, [view[done:]], position + done)
            if got <= 0:
                raise OSError(f"{self.path}: unexpected end of file at byte {position + done}")
            done += got

    def read(self, row0: int, row1: int, *, writable: bool = True, out: np.ndarray | None = None) -> np.ndarray:
        """Rows ``row0:row1`` of the band window as float32 in the file's units (``data ignore value`` → NaN), axes
        in ``layout`` order: a fresh array, or ``out[:row1 - row0]`` when a buffer is given
        (:func:`plumetrace.detect.reader.block_buffer`; used directly for native float32 BIL files).

        The detectors are invariant to a constant radiance scale, so the unit conversion ``cube[key]`` applies is
        left out here. Safe to call from several threads at once.
        """
        fd = self._fd if self._fd >= 0 else self._open()
        file = self.file
        rows = row1 - row0
        dtype = file.dtype
        item = dtype.itemsize
        ns, nb, nw = file.samples, file.bands, self.n_bands
        if file.interleave == "bil":
            native = dtype == np.float32 and dtype.isnative
            raw = out[:rows] if out is not None and native else np.empty((rows, nw, ns), dtype=dtype)
            for i in range(rows):
                self._pread_into(fd, raw[i], file.offset + ((row0 + i) * nb + self.band0) * ns * item)
            block = raw  # already (row, band, col)
        elif file.interleave == "bsq":
            raw = np.empty((nw, rows, ns), dtype=dtype)
            for j in range(nw):
                self._pread_into(fd, raw[j], file.offset + ((self.band0 + j) * file.lines + row0) * ns * item)
            block = raw.transpose(1, 0, 2)
        else:  # bip: the window is strided inside each pixel, read whole lines
            raw = np.empty((rows, ns, nb), dtype=dtype)
            self._pread_into(fd, raw, file.offset + row0 * ns * nb * item)
            block = raw[:, :, self.band0 : self.band1]
        if block.dtype == np.float32 and block.dtype.isnative and block.flags.c_contiguous:
            result = block  # native float32 BIL: no copy at all
        else:
            shaped = out is not None and out.shape[1:] == block.shape[1:]
            result = out[:rows] if shaped else np.empty(block.shape, dtype=np.float32)
            result[...] = block  # converts type and byte order
        # One NaN-ignoring reduction first: most blocks hold no fill value, and then no mask is built.
        if self.fill_value is not None and np.fmin.reduce(result, axis=None) <= self.fill_value:
            result[result == self.fill_value] = np.nan
        return result


def open_envi_cube(
    path: str | Path, *, out_dtype: Any = np.float32, scale: float = 1.0, apply_ignore: bool = True
) -> tuple[EnviCube, dict[str, Any], Path, Path]:
    """Parse an ENVI file's header and return its raw cube (no data read).

    Returns
    -------
    (cube, header, data_path, header_path)

    Raises
    ------
    MissingFileError, InvalidFileError
        Missing header/data; unknown data type, interleave or byte order; a file size that does not match.
    """
    data_path, header_path = find_envi_files(path)
    header = read_envi_header(header_path)
    layout = envi_layout(header, header_path, data_path)
    cube = EnviCube(data_path, layout, scale=scale, apply_ignore=apply_ignore, out_dtype=out_dtype)
    return cube, header, data_path, header_path


def dask_array(cube: EnviCube) -> da.Array:
    """The cube as a dask array chunked by rows (about :data:`CHUNK_BYTES` per chunk), bands whole."""
    import dask.array as da

    stat = cube.path.stat()
    token = da.core.tokenize(str(cube.path.resolve()), stat.st_size, stat.st_mtime_ns, cube.scale, str(cube.dtype))
    rows = rows_per_chunk(cube.shape[1], cube.shape[2], cube.dtype.itemsize)
    return da.from_array(
        cube, chunks=(rows, *cube.shape[1:]), name=f"envi-{token}", asarray=False, lock=False, inline_array=True
    )


def open_envi_raw(
    path: str | Path, *, out_dtype: Any = np.float32, scale: float = 1.0, apply_ignore: bool = True
) -> tuple[da.Array, dict[str, Any], Path]:
    """Open any ENVI file as a lazy dask array ``(lines, samples, bands)``, chunked by rows with bands whole.

    Parameters
    ----------
    path : path
        Data file (or its header).
    out_dtype : dtype, keyword-only
        Dtype of the returned blocks (float32 by default; pass ``None`` to keep the file's type).
    scale : float, keyword-only
        Factor applied to every value (unit conversion).
    apply_ignore : bool, keyword-only
        Replace ``data ignore value`` with NaN (floating output only).

    Returns
    -------
    (array, header, data_path)

    Raises
    ------
    InvalidFileError
        Unknown data type, interleave or byte order, or a file size that does not match the header.
    """
    cube, header, data_path, _ = open_envi_cube(path, out_dtype=out_dtype, scale=scale, apply_ignore=apply_ignore)
    return dask_array(cube), header, data_path
