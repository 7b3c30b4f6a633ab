"""The parts the inversion assembles: options, observations adapter, dispersion model, source map, likelihood."""

import dataclasses

import numpy as np
import pytest

from plumetrace.errors import InvalidFileError, InvalidInputError
from plumetrace.insitu.inversion import InversionOptions, InversionResult, invert_source
from plumetrace.insitu.likelihood import GaussianLikelihood
from plumetrace.insitu.observations import Observations
from plumetrace.insitu.plume_model import DispersionModel, GaussianPlume, NuisanceGrid
from plumetrace.insitu.source_map import SourceGrid, credible_region, default_box
from plumetrace.io.observations import validate_observations
from plumetrace.simulate.observations import simulate_survey


@pytest.fixture(scope="module")
def table():
    raw, _ = simulate_survey(kind="drone", source_xyz_m=(10.0, -20.0, 2.0), seed=1)
    return validate_observations(raw.iloc[::6].reset_index(drop=True), origin=(40.0, -100.0), source="drone.csv")


def test_options_are_frozen_and_normalised():
    options = InversionOptions(source_heights_m=[1, 2.5], prior_box=[-10, 10, -5, 5], seed=np.int64(3))
    assert options.source_heights_m == (1.0, 2.5) and options.prior_box == (-10.0, 10.0, -5.0, 5.0)
    assert options.seed == 3 and type(options.seed) is int
    with pytest.raises(dataclasses.FrozenInstanceError):
        options.seed = 4  # type: ignore[misc]
    assert dataclasses.replace(options, seed=5).seed == 5


@pytest.mark.parametrize(
    "field, value",
    [
        ("model_error_fraction", 0.0),
        ("model_error_log_sd", 3.0),
        ("sigma_y_log_sd", -0.1),
        ("noise_floor_fraction", 1.0),
        ("wind_dir_sd_deg", -1.0),
        ("n_wind_offsets", 0),
        ("n_sigma_y", 1.5),
        ("n_samples", True),
        ("grid_step_m", 0.0),
        ("source_known", (1.0,)),
        ("prior_box", (0, 1, 0)),
    ],
)
def test_each_bad_option_names_its_field(field, value):
    with pytest.raises(InvalidInputError, match=f"^{field}:"):
        InversionOptions(**{field: value})


def test_observations_adapter_reads_the_table_once(table):
    obs = Observations.from_table(table)
    assert len(obs) == len(table) and not obs.has_beams and obs.source == "drone.csv"
    np.testing.assert_array_equal(obs.position_xyz_m, table[["x_m", "y_m", "z_m"]].to_numpy())
    assert obs.time.dtype.kind == "M"  # datetime64, UTC
    met = obs.meteorology(wind_height_m=10.0, roughness_length_m=0.03, wind_average_s=0.0)
    np.testing.assert_array_equal(met.wind_dir_deg, table["wind_dir_deg"].to_numpy())
    averaged = obs.meteorology(wind_height_m=10.0, roughness_length_m=0.03, wind_average_s=60.0)
    assert np.std(np.diff(averaged.wind_dir_deg)) < np.std(np.diff(met.wind_dir_deg))


def test_gaussian_plume_implements_the_dispersion_interface(table):
    obs = Observations.from_table(table)
    model = GaussianPlume(obs, obs.meteorology(wind_height_m=10.0, roughness_length_m=0.03))
    assert isinstance(model, DispersionModel)
    sources = np.array([[10.0, -20.0, 2.0], [0.0, 0.0, 2.0]])
    dense = model.coupling(sources, wind_dir_offset_deg=2.0, sigma_y_scale=np.array([0.8, 1.25]))
    sparse = model.sparse_coupling(sources, wind_dir_offset_deg=2.0, sigma_y_scales=np.array([0.8, 1.25]))
    assert dense.shape == (2, 2, len(obs))
    for d, s in zip(dense, sparse):
        np.testing.assert_allclose(s.toarray(), d, rtol=1e-9, atol=1e-9 * d.max())


def test_nuisance_grid_flattens_offset_major():
    grid = NuisanceGrid.from_priors(wind_dir_sd_deg=5.0, n_wind_offsets=3, sigma_y_log_sd=0.4, n_sigma_y=5)
    assert grid.size == 15 and grid.nodes(7) == (0.0, 1.0)
    assert grid.log_prior[7] == 0.0 and grid.log_prior.max() == 0.0
    off = NuisanceGrid.from_priors(wind_dir_sd_deg=0.0, n_wind_offsets=7, sigma_y_log_sd=0.0, n_sigma_y=5)
    assert off.size == 1 and off.nodes(0) == (0.0, 1.0)


def test_source_grid_zoom_and_region(table):
    obs = Observations.from_table(table)
    grid = SourceGrid.from_box(default_box(obs), heights_m=(2.0,))
    assert grid.sources_xyz_m().shape == (grid.east_m.size * grid.north_m.size, 3)
    log_post = np.full((1, grid.sources_xyz_m().shape[0]), -1e3)
    log_post[0, 5 * grid.east_m.size + 7] = 0.0  # all mass in one cell
    fine = grid.zoom(log_post)
    assert fine.step_m == pytest.approx(grid.step_m / 4)
    region = credible_region(grid.position_map(log_post), grid)
    assert region.area == pytest.approx(grid.step_m**2)
    with pytest.raises(InvalidInputError, match="prior_box"):
        SourceGrid.from_box((0, 0, 0, 1), heights_m=(1.0,))


def test_likelihood_recovers_a_noise_free_rate():
    coupling = np.array([[0.0, 1.0, 2.0, 0.5, 0.0], [1.0, 0.0, 0.0, 0.0, 1.0]])
    c = 3.0 * coupling[0]
    fit = GaussianLikelihood(c, 1e-3, 0.5).solve(coupling)
    assert fit.rate_g_s[0] == pytest.approx(3.0, rel=1e-3)
    assert fit.log_marginal[0] > fit.log_marginal[1]


def test_result_is_frozen_with_typed_fields(table):
    result = invert_source(table, InversionOptions(source_heights_m=(2.0,), n_samples=100))
    assert isinstance(result, InversionResult)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.q_g_s = 0.0  # type: ignore[misc]
    summary = result.summary()
    assert summary["likelihood_temper"] == result.likelihood_temper and summary["n_crossings"] == result.n_crossings
    assert isinstance(result.n_crossings, int) and 0 < result.likelihood_temper <= 1


def test_typed_observations_and_overrides_give_the_table_result(table):
    options = InversionOptions(source_known=(10.0, -20.0), source_heights_m=(2.0,), n_samples=100)
    a = invert_source(table, options)
    b = invert_source(
        Observations.from_table(table),
        InversionOptions(),
        source_known=(10.0, -20.0),
        source_heights_m=(2.0,),
        n_samples=100,
    )
    assert a.summary() == b.summary()


def test_one_row_table_names_the_file(table):
    one = table.iloc[:1].copy()
    one.attrs["source"] = "log.csv"
    with pytest.raises(InvalidFileError, match="log.csv: rows"):
        invert_source(one)
