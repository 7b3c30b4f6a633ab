"""`detect_lwir` on small synthetic scenes of known truth: which gases, how much, blind pixels, refusals."""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr
from _lwir_synthetic import library, scene

from plumetrace.detect.lwir.engine import BLIND_LABEL, detect_lwir
from plumetrace.detect.lwir.options import LwirOptions
from plumetrace.errors import InvalidFileError

PLUME_K = 293.0


def _run(columns, **kwargs):
    lib = library()
    ds, truth = scene(lib, columns, seed=kwargs.pop("seed", 3), plume_k=PLUME_K, **kwargs)
    return detect_lwir(ds, lib, LwirOptions(plume_temperature_k=PLUME_K), progress=False), truth, lib


def _mean_bias(result, truth, lib, gas):
    mask = truth["mask"]
    est = result["column_ppm_m"].values[lib.names.index(gas)][mask]
    return float(np.nansum(est) / truth[gas][mask][np.isfinite(est)].sum() - 1.0)


@pytest.mark.slow
@pytest.mark.parametrize("columns", [{"alpha": 150.0}, {"beta": 100.0, "gamma": 150.0}])
def test_identifies_the_gases_of_the_plume_and_their_columns(columns):
    result, truth, lib = _run(columns)
    plumes = result.attrs["identification"]
    assert len(plumes) == 1
    assert sorted(plumes[0]["gases"]) == sorted(columns)
    assert plumes[0]["confidence"] > 0.9
    for gas in columns:
        assert abs(_mean_bias(result, truth, lib, gas)) < 0.15
    # The label map names the set inside the plume and nothing outside it.
    label = result["label"].values
    table = result.attrs["label_table"]
    inside = label[truth["mask"] & (label > 0)]
    assert inside.size > 0.5 * truth["mask"].sum()
    assert {table[k - 1] for k in np.unique(inside)} <= {"+".join(sorted(columns, key=lib.names.index)), *columns}
    assert (label[~truth["mask"]] > 0).mean() < 0.01


def test_a_plume_free_scene_gives_no_plume():
    result, _, _ = _run({})
    assert result.attrs["identification"] == []
    assert not (result["label"].values > 0).any()


def test_pixels_without_contrast_are_blind_not_zero():
    result, _, lib = _run({"alpha": 150.0}, blind_half=True, seed=4)
    blind = result["blind"].values
    assert blind[:, :20].mean() > 0.9 and blind[:, -20:].mean() < 0.05
    assert np.all(np.isnan(result["column_ppm_m"].values[:, blind]))
    assert np.all(result["label"].values[blind] == BLIND_LABEL)
    # Where there is contrast the noise-equivalent column is finite.
    assert all(np.isfinite(v) for v in result.attrs["noise_equivalent_column_ppm_m"].values())


@pytest.mark.slow
def test_gases_too_alike_are_reported_as_an_ambiguous_group():
    lib = library(("alpha", "beta", "gamma", "twin"))
    ds, _ = scene(lib, {"beta": 120.0}, seed=5, plume_k=PLUME_K)
    result = detect_lwir(ds, lib, LwirOptions(plume_temperature_k=PLUME_K), progress=False)
    assert result.attrs["ambiguous_groups"] == [["beta", "twin"]]
    (plume,) = result.attrs["identification"]
    assert set(plume["gases"]) <= {"beta", "twin"}
    assert plume["ambiguous_groups"] == [["beta", "twin"]]


def test_a_scene_without_thermal_channels_is_refused_naming_the_wavelength():
    lib = library()
    wl = np.linspace(400.0, 2500.0, 50)
    ds = xr.Dataset(
        {"radiance": (("y", "x", "band"), np.ones((4, 4, 50), np.float32))},
        coords={"wavelength": ("band", wl), "fwhm": ("band", np.full(50, 10.0))},
        attrs={"source": "swir.hdr"},
    )
    with pytest.raises(InvalidFileError) as err:
        detect_lwir(ds, lib)
    assert err.value.path == "swir.hdr" and err.value.field == "wavelength"
