"""Association of detections into sites: known answers on hand-made positions and uncertainties."""

from __future__ import annotations

import math

import numpy as np
import pytest

from plumetrace.errors import InvalidInputError
from plumetrace.sites import SiteOptions
from plumetrace.sites.associate import associate, mahalanobis_d2


def _labels(points, *, options=SiteOptions()):
    """points: (east, north, sigma_e, sigma_n, pixel, overpass)."""
    arr = list(zip(*points))
    return associate(*(np.asarray(a) for a in arr[:5]), np.asarray(arr[5]), options=options)


def test_gate_is_chi_square_2dof():
    assert SiteOptions().gate_d2 == pytest.approx(5.991, abs=1e-3)
    assert SiteOptions(gate_probability=0.99).gate_d2 == pytest.approx(9.210, abs=1e-3)


def test_mahalanobis_distance_uses_the_combined_sigma_per_axis():
    a, b = (0.0, 0.0, 50.0**2, 10.0**2), (100.0, 30.0, 50.0**2, 20.0**2)
    assert mahalanobis_d2(a, b) == pytest.approx(100.0**2 / (2 * 50.0**2) + 30.0**2 / (10.0**2 + 20.0**2))


def test_effective_sigma_is_floored_at_a_pixel():
    from plumetrace.sites.associate import effective_sigma

    got = effective_sigma(
        np.array([1.0, 88.0, 0.1, 5.0]), np.array([10.0, 60.0, np.nan, np.nan]), options=SiteOptions()
    )
    assert got.tolist() == [10.0, 88.0, 1.0, 5.0]


def test_two_single_detections_3_sigma_apart_stay_two_and_1_sigma_apart_are_one():
    sep3 = 3 * math.sqrt(2) * 50.0  # 3 combined σ
    assert len(set(_labels([(0, 0, 50, 50, 30, 0), (sep3, 0, 50, 50, 30, 1)]))) == 2
    sep1 = math.sqrt(2) * 50.0
    assert len(set(_labels([(0, 0, 50, 50, 30, 0), (sep1, 0, 50, 50, 30, 1)]))) == 1


def test_two_sites_3_sigma_apart_seen_many_times_stay_two():
    """Sites 150 m apart (3σ of one detection); each of 6 scenes sees both, with ±20 m scatter."""
    offsets = [(-20, 10), (15, -20), (5, 20), (-10, -5), (20, 0), (0, 15)]
    points, truth = [], []
    for scene, (dx, dy) in enumerate(offsets):
        points.append((0 + dx, dy, 50, 50, 60, scene))
        truth.append(0)
        points.append((150 - dy, dx, 50, 50, 60, scene))
        truth.append(1)
    labels = _labels(points)
    assert len(set(labels)) == 2
    assert all((labels == labels[0]) == (np.asarray(truth) == 0))


def test_two_plumes_of_one_scene_are_never_one_site():
    assert len(set(_labels([(0, 0, 50, 50, 60, 7), (10, 0, 50, 50, 60, 7)]))) == 2


def test_emit_and_drone_seeing_one_source_are_one_site():
    emit = (40.0, -30.0, 88.0, 88.0, 60.0, 0)  # 1σ 88 m, off by less than a pixel
    drone = (0.0, 0.0, 12.0, 1.5, 2.0, 1)  # tiny σ across the wind
    assert len(set(_labels([emit, drone]))) == 1


def test_pixel_floor_joins_sources_with_tiny_sigma():
    points = [(0, 0, 1, 1, 10, 0), (25, 0, 1, 1, 10, 1)]  # 25 m apart, σ 1 m, 10 m pixels: d² = 25²/(2·10²) = 3.1
    assert len(set(_labels(points))) == 1
    assert len(set(_labels(points, options=SiteOptions(floor_pixels=0.0)))) == 2


def test_result_does_not_depend_on_input_order():
    rng = np.random.default_rng(4)
    centres = rng.uniform(0, 3000, size=(8, 2))
    points = []
    for scene in range(5):
        for c in centres:
            e, n = c + rng.normal(0, 40, 2)
            points.append((e, n, 50.0, 50.0, 60.0, scene))
    labels = _labels(points)
    perm = rng.permutation(len(points))
    shuffled = _labels([points[i] for i in perm])
    # same partition: detection i and j together in one run iff together in the other
    same = labels[:, None] == labels[None, :]
    same_shuffled = np.empty_like(same)
    inverse = np.argsort(perm)
    same_shuffled = (shuffled[:, None] == shuffled[None, :])[np.ix_(inverse, inverse)]
    assert (same == same_shuffled).all()
    assert len(set(labels)) == 8


@pytest.mark.parametrize(
    "kwargs, field",
    [
        ({"gate_probability": 1.0}, "gate_probability"),
        ({"floor_pixels": -1.0}, "floor_pixels"),
        ({"min_sigma_m": 0.0}, "min_sigma_m"),
        ({"n_draws": 10}, "n_draws"),
        ({"seed": -1}, "seed"),
    ],
)
def test_options_are_checked(kwargs, field):
    with pytest.raises(InvalidInputError, match=field):
        SiteOptions(**kwargs)


def test_one_source_seen_many_times_stays_one_site():
    """15 detections scattered as their stated σ: agglomeration must not split them into tight sub-clusters (the
    pairwise d² of such sub-clusters is biased high; the whole-site χ² test is not). Allowed: the Gaussian tail."""
    one_site = 0
    for seed in range(20):
        rng = np.random.default_rng(seed)
        xy = rng.normal(0.0, 50.0, size=(15, 2))
        labels = _labels([(e, n, 50.0, 50.0, 30.0, k) for k, (e, n) in enumerate(xy)])
        one_site += len(set(labels)) == 1
    assert one_site >= 18


def test_two_sites_3_sigma_apart_seen_in_different_scenes_stay_two():
    """No scene sees both (no same-overpass constraint): the positions alone must keep them apart."""
    offsets = [(-20, 10), (15, -20), (5, 20), (-10, -5), (20, 0), (0, 15)]
    points = [(dx, dy, 50, 50, 30, 2 * k) for k, (dx, dy) in enumerate(offsets)]
    points += [(150 - dy, dx, 50, 50, 30, 2 * k + 1) for k, (dx, dy) in enumerate(offsets)]
    labels = _labels(points)
    assert len(set(labels)) == 2 and len(set(labels[:6])) == 1 and len(set(labels[6:])) == 1
