"""Which background statistics each pixel is filtered with: a column map (column / group / scene) or a class map.

The passes after the statistics (:mod:`plumetrace.detect.robust_round`, :mod:`plumetrace.detect.sparse_pass`) work
on the pixels of a block as a (pixels × bands) matrix and need only each pixel's group; a :class:`GroupMap` gives it,
whether groups are columns of the sensor (``stats`` column, group or scene: ``of_column``) or spectral classes
(``stats="cluster"``: ``of_pixel``, one class per pixel, -1 where invalid).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from plumetrace.detect.reader import WindowReader, pixels

__all__ = ["GroupMap", "centred_pixels"]


@dataclass(frozen=True)
class GroupMap:
    """Group of every pixel: per column (``of_column``, (n_col,) int) or per pixel (``of_pixel``, (n_lines, n_col)
    int16, -1 where invalid); exactly one is given.

    Attributes
    ----------
    n_group : int
        Number of groups (the statistics' first axis).
    gram_float64 : bool
        Whether the robust round sums ``Σ d dᵀ`` of the marked pixels in float64 (column maps) or as one float32
        product per group and block, merged in float64 (class maps, as their statistics pass does).
    """

    n_group: int
    of_column: np.ndarray | None = None
    of_pixel: np.ndarray | None = None
    gram_float64: bool = True

    def __post_init__(self) -> None:
        if (self.of_column is None) == (self.of_pixel is None):
            raise ValueError("give exactly one of of_column and of_pixel")

    @classmethod
    def columns(cls, groups: np.ndarray, n_group: int) -> GroupMap:
        """A column map: ``groups[c]`` is the group of column ``c``."""
        return cls(n_group=int(n_group), of_column=groups, gram_float64=True)

    @classmethod
    def classes(cls, class_map: np.ndarray, n_group: int) -> GroupMap:
        """A class map: ``class_map[row, col]`` is the class of that pixel (-1: invalid)."""
        return cls(n_group=int(n_group), of_pixel=class_map, gram_float64=False)

    def groups(self, row0: int, row1: int, mask: np.ndarray) -> np.ndarray:
        """Group (int64) of each pixel marked in ``mask`` (row1 - row0, n_col), in row-major order."""
        if self.of_column is not None:
            return self.of_column[np.nonzero(mask)[1]]
        return self.of_pixel[row0:row1][mask].astype(np.int64)


def centred_pixels(
    reader: WindowReader,
    group_map: GroupMap,
    row0: int,
    row1: int,
    mask: np.ndarray,
    mean32: np.ndarray,
    buffer: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Spectra (n, n_band) float32 of the pixels marked in ``mask`` (rows ``row0:row1``) minus their group's
    ``mean32`` (n_group, n_band) float32, and their groups (n,), in row-major order."""
    block = reader.read(row0, row1) if buffer is None else reader.read(row0, row1, out=buffer)
    d = pixels(block, mask, reader.layout)
    g = group_map.groups(row0, row1, mask)
    d -= mean32[g]
    return d, g
