"""Property tests (hypothesis, few examples): invariances the estimates must respect whatever the plume."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from plumes_analytic import gaussian_plume_ppm_m

from plumetrace.plumes.quantify import UeffCalibration, cross_sectional_flux_kg_h, integrated_mass_enhancement_kg

EXACT = UeffCalibration(1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 30.0, "test")


@settings(max_examples=25, deadline=None)
@given(scale=st.floats(0.1, 100.0), seed=st.integers(0, 10_000))
def test_ime_is_linear_in_the_enhancement(scale, seed):
    rng = np.random.default_rng(seed)
    enhancement = rng.uniform(0, 1000, (12, 12))
    mask = rng.uniform(size=(12, 12)) > 0.5
    mask[0, 0] = True
    base = integrated_mass_enhancement_kg(enhancement, mask, pixel_size_m=30.0)
    assert integrated_mass_enhancement_kg(scale * enhancement, mask, pixel_size_m=30.0) == pytest.approx(
        scale * base, rel=1e-9
    )


@settings(max_examples=12, deadline=None)
@given(angle_deg=st.floats(0.0, 360.0))
def test_csf_does_not_depend_on_the_wind_direction(angle_deg):
    rate, speed, pixel = 1200.0, 3.0, 30.0
    d = (math.sin(math.radians(angle_deg)), math.cos(math.radians(angle_deg)))
    truth = gaussian_plume_ppm_m(
        (121, 121), source_rc=(60, 60), rate_kg_h=rate, wind_speed_m_s=speed, pixel_size_m=pixel, downwind_rc=d
    )
    mask = truth > 0.002 * truth.max()
    estimate, _, n = cross_sectional_flux_kg_h(
        truth, mask, source_rc=(60, 60), downwind_rc=d, pixel_size_m=pixel, wind_speed_m_s=speed, calibration=EXACT
    )
    assert n > 10
    assert estimate == pytest.approx(rate, rel=0.08)
