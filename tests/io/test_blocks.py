import numpy as np
import pytest

from plumetrace.io._blocks import block_request

CUBE = np.arange(7 * 5 * 4).reshape(7, 5, 4)


@pytest.mark.parametrize(
    "key",
    [
        (slice(1, 6), slice(None)),
        (slice(0, 7, 2), slice(1, 4), slice(0, 2)),
        (3,),
        (np.array([5, 1, 2]), slice(None), 2),
        (slice(2, 4), np.array([4, 0])),
        (2, 3),
    ],
)
def test_block_request_matches_numpy_indexing(key):
    request = block_request(key, CUBE.shape)
    block = CUBE[request.rows[0] : request.rows[1], request.cols[0] : request.cols[1], :]
    np.testing.assert_array_equal(request.finish(block), CUBE[key])
