import pytest

from plumetrace.errors import InvalidInputError
from plumetrace.insitu.massbalance import curtain_flux
from plumetrace.io.observations import validate_observations
from plumetrace.simulate.observations import simulate_curtain, simulate_survey


@pytest.mark.parametrize("seed,stability,wind_dir", [(0, "D", 270.0), (1, "C", 45.0)])
def test_curtain_flux_recovers_known_rate(seed, stability, wind_dir):
    raw, truth = simulate_curtain(
        emission_rate_g_s=4.0, distance_m=150.0, stability=stability, wind_dir_deg=wind_dir, seed=seed
    )
    res = curtain_flux(validate_observations(raw, origin=(40.0, -100.0)))
    assert res.flux_g_s == pytest.approx(4.0, rel=0.25)
    assert 0 < res.flux_sd_g_s < 2.0
    assert res.n_legs >= 3


def test_noise_free_curtain_is_accurate():
    raw, _ = simulate_curtain(
        emission_rate_g_s=2.0,
        distance_m=200.0,
        meander_sd_deg=0.0,
        turbulence_sd=0.0,
        wind_noise_m_s=0.0,
        noise_mg_m3=0.0,
        leg_spacing_m=1.5,
        seed=3,
    )
    res = curtain_flux(validate_observations(raw, origin=(40.0, -100.0)))
    assert res.flux_g_s == pytest.approx(2.0, rel=0.08)


def test_samples_off_a_plane_are_rejected():
    raw, _ = simulate_survey(kind="fixed", seed=0)
    with pytest.raises(InvalidInputError, match="plane"):
        curtain_flux(validate_observations(raw, origin=(40.0, -100.0)))


def test_beams_are_rejected():
    raw, _ = simulate_survey(kind="beam", seed=0)
    with pytest.raises(InvalidInputError, match="beam"):
        curtain_flux(validate_observations(raw, origin=(40.0, -100.0)))
