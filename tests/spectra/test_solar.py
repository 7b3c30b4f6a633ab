"""Solar irradiance, Earth-Sun distance and sun position against known values."""

from __future__ import annotations

from datetime import datetime, timezone

import numpy as np
import pytest

from plumetrace.errors import InvalidInputError
from plumetrace.spectra.solar import earth_sun_distance_au, load_solar_irradiance, solar_irradiance, solar_zenith_deg


def test_kurucz_units_and_total():
    wl, irr = load_solar_irradiance()
    # Kurucz ~1.9 W m⁻² nm⁻¹ at 500 nm = 190 µW cm⁻² nm⁻¹; 350-2600 nm holds ~1230 W m⁻² of the 1361 W m⁻² TSI.
    assert 170 < solar_irradiance(np.array([500.0]), smoothing_nm=5.0)[0] < 210
    total_w_m2 = np.trapezoid(irr, wl) * 0.01  # 1 µW cm⁻² = 0.01 W m⁻²
    assert 1150 < total_w_m2 < 1300


def test_earth_sun_distance_extremes():
    assert earth_sun_distance_au(3) == pytest.approx(0.9833, abs=1e-3)  # perihelion
    assert earth_sun_distance_au(185) == pytest.approx(1.0167, abs=1e-3)  # aphelion


def test_sun_overhead_at_tropic_on_june_solstice():
    # 2026-06-21, 23.44° N, 0° E at 12:02 UTC (local solar noon: equation of time ≈ -1.7 min).
    assert solar_zenith_deg(datetime(2026, 6, 21, 12, 2, tzinfo=timezone.utc), 23.44, 0.0) < 0.6


def test_equinox_noon_zenith_equals_latitude():
    # 2026-03-20 at solar noon on the Greenwich meridian (equation of time ≈ -7.5 min → 12:07:30 UTC).
    sza = solar_zenith_deg(datetime(2026, 3, 20, 12, 7, 30), 45.0, 0.0)
    assert sza == pytest.approx(45.0, abs=0.6)


def test_bad_latitude_rejected():
    with pytest.raises(InvalidInputError, match="lat"):
        solar_zenith_deg(datetime(2026, 1, 1), 95.0, 0.0)


def test_wavelength_outside_table_rejected():
    with pytest.raises(InvalidInputError, match="wavelength_nm"):
        solar_irradiance(np.array([3000.0]))
