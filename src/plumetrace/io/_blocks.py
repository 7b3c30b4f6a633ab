"""Block requests for lazy (line, sample, band) cubes read through dask: contiguous spans to read, then picks."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["BlockRequest", "block_request"]


@dataclass(frozen=True)
class BlockRequest:
    """What to read for one ``cube[key]``: row and column spans (start, stop), then what to pick from the block."""

    rows: tuple[int, int]
    cols: tuple[int, int]
    picks: tuple[Any, Any]
    band_key: Any
    squeeze: tuple[int, ...]

    def finish(self, block: np.ndarray) -> np.ndarray:
        """Apply the row/column picks, the band key and integer-index squeezing to a (rows, cols, band) block."""
        block = block[self.picks[0]][:, self.picks[1]][:, :, self.band_key]
        return np.squeeze(block, axis=self.squeeze) if self.squeeze else block


def block_request(key: Any, shape: tuple[int, int, int]) -> BlockRequest:
    """Turn a NumPy-style key (ints, slices or index arrays on the first two axes) into a :class:`BlockRequest`."""
    key = key if isinstance(key, tuple) else (key,)
    key = key + (slice(None),) * (3 - len(key))
    squeeze = tuple(axis for axis, k in enumerate(key) if isinstance(k, (int, np.integer)))
    key = tuple(slice(int(k), int(k) + 1) if isinstance(k, (int, np.integer)) else k for k in key)
    spans, picks = [], []
    for k, size in zip(key[:2], shape[:2]):
        if isinstance(k, slice):
            start, stop, step = k.indices(size)
            spans.append((start, max(start, stop)))
            picks.append(slice(None, None, step))
        else:  # an index array: read its covering range, then pick
            index = np.asarray(k, dtype=np.int64) % size
            low = int(index.min()) if index.size else 0
            spans.append((low, int(index.max()) + 1 if index.size else low))
            picks.append(index - low)
    return BlockRequest(rows=spans[0], cols=spans[1], picks=(picks[0], picks[1]), band_key=key[2], squeeze=squeeze)
