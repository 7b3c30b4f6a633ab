"""Routing: turn lengths against closed-form geometry; visibility-graph routes around obstacles."""

from __future__ import annotations

import math

import pytest
from shapely.geometry import LineString, box

from plumetrace.errors import InvalidInputError
from plumetrace.plan.routing import VisibilityRouter, turn_length_m


@pytest.mark.parametrize(
    "d,r,expected",
    [
        (200.0, 100.0, math.pi * 100.0),  # exactly a semicircle
        (500.0, 100.0, math.pi * 100.0 + 300.0),  # semicircle plus straight
        (0.0, 100.0, 7.0 * math.pi * 100.0 / 3.0),  # omega turn onto the same line: 7πr/3
        (300.0, 0.0, 300.0),  # no turn radius: straight across
    ],
)
def test_turn_length_closed_forms(d, r, expected):
    assert turn_length_m(d, r) == pytest.approx(expected, rel=1e-9)


def test_turn_length_is_continuous_at_two_radii_and_shrinks_with_offset():
    r = 150.0
    assert turn_length_m(2 * r - 1e-6, r) == pytest.approx(turn_length_m(2 * r, r), rel=1e-3)
    lengths = [turn_length_m(d, r) for d in (0, 50, 100, 200, 299)]
    assert lengths == sorted(lengths, reverse=True)


def test_route_around_square_obstacle_is_shortest_path():
    obstacle = box(-100, -100, 100, 100)
    legal = box(-1000, -1000, 1000, 1000).difference(obstacle)
    router = VisibilityRouter(legal, clearance_m=0.5)
    path = router.route((-500.0, 0.0), (500.0, 0.0))
    line = LineString(path)
    assert line.intersection(obstacle).length == pytest.approx(0.0, abs=1e-9)
    # Shortest path touches two corners of the square: 2 * hypot(400, 100) + 200 (plus the clearance).
    expected = 2 * math.hypot(400, 100) + 200
    assert line.length == pytest.approx(expected, abs=3.0)


def test_clear_route_is_straight():
    router = VisibilityRouter(box(0, 0, 100, 100))
    assert router.route((10, 10), (90, 90)) == [(10.0, 10.0), (90.0, 90.0)]


def test_route_from_forbidden_point_is_refused():
    legal = box(-1000, -1000, 1000, 1000).difference(box(-100, -100, 100, 100))
    with pytest.raises(InvalidInputError, match="forbidden airspace"):
        VisibilityRouter(legal).route((0, 0), (500, 500))


def test_enclosed_point_has_no_route():
    ring = box(-300, -300, 300, 300).difference(box(-200, -200, 200, 200))
    legal = box(-1000, -1000, 1000, 1000).difference(ring)
    with pytest.raises(InvalidInputError, match="no legal route"):
        VisibilityRouter(legal).route((0, 0), (800, 800))
