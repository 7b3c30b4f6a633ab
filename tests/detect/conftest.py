"""Fixtures for the detection tests; the scene builders live in _detect_synthetic.py (importable by the tests)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # --import-mode=importlib: make the helper module importable

from _detect_synthetic import disc_plume, synthetic_scene  # noqa: E402


@pytest.fixture
def plume_scene():
    rows, cols = 240, 24
    truth = disc_plume(rows, cols, 1500.0, radius=8.0)
    return synthetic_scene(rows=rows, cols=cols, plume_ppm_m=truth, seed=1)
