"""Analytic plumes with known emission rate for the plume tests."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import xarray as xr

sys.path.insert(0, str(Path(__file__).parent))  # the helper module beside this file
from plumes_analytic import gaussian_plume_ppm_m  # noqa: E402


@pytest.fixture
def analytic_plume():
    """The :func:`gaussian_plume_ppm_m` function."""
    return gaussian_plume_ppm_m


@pytest.fixture
def plume_map():
    """Factory: an enhancement Dataset with one analytic plume plus white noise."""

    def _make(*, noise_ppm_m: float = 30.0, seed: int = 0, shape=(80, 120), pixel_size_m: float = 30.0, **kwargs):
        rng = np.random.default_rng(seed)
        kwargs.setdefault("source_rc", (40.0, 20.0))
        kwargs.setdefault("rate_kg_h", 1500.0)
        kwargs.setdefault("wind_speed_m_s", 4.0)
        truth = gaussian_plume_ppm_m(shape, pixel_size_m=pixel_size_m, **kwargs)
        noisy = truth + rng.normal(0.0, noise_ppm_m, shape)
        ds = xr.Dataset(
            {"enhancement": (("y", "x"), noisy.astype(np.float32), {"units": "ppm m"})},
            attrs={"pixel_size_m": pixel_size_m, "sensor": "prisma", "gas": "ch4"},
        )
        return ds, truth

    return _make
