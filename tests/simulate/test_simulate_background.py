"""Procedural backgrounds: random-field statistics, abundance bookkeeping, reproducibility."""

from __future__ import annotations

import numpy as np
import pytest

from plumetrace.errors import InvalidInputError
from plumetrace.simulate.background import gaussian_random_field, procedural_abundances


def test_random_field_is_standardised_and_correlated():
    field = gaussian_random_field((128, 128), pixel_size_m=10.0, outer_scale_m=500.0, rng=np.random.default_rng(0))
    assert field.mean() == pytest.approx(0.0, abs=1e-9)
    assert field.std() == pytest.approx(1.0, rel=1e-9)
    # Neighbouring pixels are strongly correlated (texture), distant ones much less.
    near = np.corrcoef(field[:, :-1].ravel(), field[:, 1:].ravel())[0, 1]
    far = np.corrcoef(field[:, :-64].ravel(), field[:, 64:].ravel())[0, 1]
    assert near > 0.8 and far < near - 0.5


def test_abundances_sum_to_brightness_and_are_reproducible():
    a, names = procedural_abundances((64, 80), pixel_size_m=30.0, seed=5, brightness_std=0.0)
    assert a.shape == (64, 80, len(names))
    assert np.all(a >= 0)
    np.testing.assert_allclose(a.sum(axis=-1), 1.0, atol=1e-5)
    b, _ = procedural_abundances((64, 80), pixel_size_m=30.0, seed=5, brightness_std=0.0)
    np.testing.assert_array_equal(a, b)


def test_roads_are_present_and_narrow():
    a, names = procedural_abundances(
        (100, 100), pixel_size_m=5.0, seed=2, n_roads=1, road_width_m=10.0, fields=False, brightness_std=0.0
    )
    road = a[..., names.index("road")]
    covered = (road > 0.9).sum()
    assert 100 <= covered <= 2 * 100 * 3  # a 2-pixel-wide line across a 100-px scene


def test_unknown_material_rejected():
    with pytest.raises(InvalidInputError, match="materials"):
        procedural_abundances((32, 32), pixel_size_m=30.0, materials=("lava",))


def test_tiny_shape_rejected():
    with pytest.raises(InvalidInputError, match="shape"):
        procedural_abundances((4, 32), pixel_size_m=30.0)
