import numpy as np
import pandas as pd
import pytest

from plumetrace.errors import InvalidInputError
from plumetrace.insitu.background import estimate_background


def test_quantile_background_and_noise_ignore_plume_hits():
    rng = np.random.default_rng(0)
    c = 2.0 + 0.01 * rng.standard_normal(2000)
    c[::10] += 5.0  # plume hits
    bg = estimate_background(c, quantile=0.5)
    assert bg.level_mg_m3[0] == pytest.approx(2.0, abs=0.005)
    assert bg.noise_mg_m3 == pytest.approx(0.01, rel=0.25)


def test_rolling_background_follows_a_drift():
    t = pd.date_range("2026-01-01", periods=3600, freq="1s", tz="UTC")
    c = 2.0 + np.linspace(0, 0.5, 3600)
    bg = estimate_background(c, time=t, method="rolling", window_s=120, quantile=0.5)
    assert np.max(np.abs(bg.level_mg_m3[100:-100] - c[100:-100])) < 0.02


@pytest.mark.parametrize("kw", [dict(method="median-filter"), dict(quantile=0.9), dict(method="rolling")])
def test_bad_options_are_rejected(kw):
    with pytest.raises(InvalidInputError):
        estimate_background(np.ones(10), **kw)


def test_noise_estimate_survives_samples_mostly_in_the_plume():
    # open-path beams: 6 of 7 beams always in the plume, one upwind reference beam (true noise 0.01)
    rng = np.random.default_rng(1)
    n = 1400
    c = 2.0 + 0.01 * rng.standard_normal(n)
    inplume = np.arange(n) % 7 != 0
    c[inplume] += rng.uniform(0.1, 1.0, inplume.sum())
    bg = estimate_background(c)
    assert bg.level_mg_m3[0] == pytest.approx(2.0, abs=0.02)
    assert 0.005 < bg.noise_mg_m3 < 0.03  # the lower-half MAD alone gives ~0.2
