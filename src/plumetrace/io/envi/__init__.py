"""ENVI radiance cubes (AVIRIS-NG, AVIRIS-3, generic): header parser, raw cube, lazy Scene reader, writer.

* :mod:`~plumetrace.io.envi.header`: :func:`read_envi_header`, :func:`find_envi_files`, the data layout a header
  describes (:func:`envi_layout`) and the companion file names.
* :mod:`~plumetrace.io.envi.cube`: :class:`EnviCube`, the one raw-cube reader — lazy blocks for the Scene, band-window
  row blocks for the detectors — and :func:`open_envi_raw` (any ENVI file as a dask array).
* :mod:`~plumetrace.io.envi.reader`: :func:`read_envi` (a lazy Scene), :func:`envi_metadata`,
  :func:`check_envi_values`, :func:`scene_window_reader`.
* :mod:`~plumetrace.io.envi.writer`: :func:`write_envi`, :func:`write_envi_header`.
"""

from plumetrace.io.envi.cube import CHUNK_BYTES, EnviCube, open_envi_cube, open_envi_raw
from plumetrace.io.envi.header import (
    ENVI_DTYPES,
    EnviLayout,
    envi_layout,
    find_envi_files,
    read_envi_header,
)
from plumetrace.io.envi.reader import (
    check_envi_values,
    envi_companions,
    envi_metadata,
    envi_radiance_scale,
    read_envi,
    scene_window_reader,
)
from plumetrace.io.envi.writer import write_envi, write_envi_header

__all__ = [
    "CHUNK_BYTES",
    "ENVI_DTYPES",
    "EnviCube",
    "EnviLayout",
    "check_envi_values",
    "envi_companions",
    "envi_layout",
    "envi_metadata",
    "envi_radiance_scale",
    "find_envi_files",
    "open_envi_cube",
    "open_envi_raw",
    "read_envi",
    "read_envi_header",
    "scene_window_reader",
    "write_envi",
    "write_envi_header",
]
