"""Block reordering for the per-column products: exact values, any row count, both block layouts."""

from __future__ import annotations

import numpy as np
import pytest

from plumetrace.detect.reader import columns_first


@pytest.mark.parametrize("layout", ["rbc", "rcb"])
@pytest.mark.parametrize("n_row", [1, 3, 4, 9, 64])
def test_columns_first_is_the_centred_transpose_exactly(layout, n_row):
    rng = np.random.default_rng(n_row)
    n_band, n_col = 6, 11
    pixels = (100.0 + rng.normal(size=(n_row, n_col, n_band))).astype(np.float32)  # (row, col, band)
    shift = (100.0 + rng.normal(size=(n_col, n_band))).astype(np.float32)
    block = np.ascontiguousarray(pixels.transpose(0, 2, 1)) if layout == "rbc" else pixels
    expected = pixels.transpose(1, 0, 2) - shift[:, None, :]  # float32 subtraction, element by element
    result = columns_first(block, shift, layout=layout)
    assert result.shape == (n_col, n_row, n_band) and result.dtype == np.float32 and result.flags.c_contiguous
    np.testing.assert_array_equal(result, expected)
    # into a reused, taller buffer: the leading rows of it
    buffer = np.full((n_col, n_row + 5, n_band), np.nan, dtype=np.float32)
    result = columns_first(block, shift, buffer, layout)
    assert np.shares_memory(result, buffer)
    np.testing.assert_array_equal(result, expected)


def test_columns_first_leaves_a_read_only_block_untouched():
    block = np.arange(2 * 3 * 5, dtype=np.float32).reshape(2, 3, 5)  # (row, band, col)
    block.flags.writeable = False
    shift = np.ones((5, 3), dtype=np.float32)
    np.testing.assert_array_equal(columns_first(block, shift), block.transpose(2, 0, 1) - 1.0)
