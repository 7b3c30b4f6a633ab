"""Gas libraries from JCAMP-DX: unit conversions against hand-computed values, grids, convolution, refusals."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from plumetrace.errors import InputWarning, InvalidFileError, InvalidInputError, MissingFileError
from plumetrace.spectra.gas_library import (
    GasLibrary,
    SensorGasLibrary,
    convolve_to_channels,
    load_gas_library,
)
from plumetrace.spectra.jcamp_library import read_jcamp_spectrum
from tests.spectra.jdx_files import write_jdx


def _grid(n: int = 2401, first: float = 600.0, step: float = 0.5) -> np.ndarray:
    return first + step * np.arange(n)  # 600-1800 cm-1 (5.6-16.7 µm)


def test_quant_ir_value_converts_to_natural_log(tmp_path):
    y = np.full(2401, 1.0e-4)  # decadic absorbance per ppm·m
    spectrum = read_jcamp_spectrum(write_jdx(tmp_path / "g.jdx", title="Test Gas", y=y))
    assert spectrum.name == "test gas"
    assert spectrum.kind == "quant-ir"
    # Hand value: 1e-4 × ln 10 = 2.302585e-4 per ppm·m.
    np.testing.assert_allclose(spectrum.absorption_per_ppm_m, 2.302585e-4, rtol=1e-6)


def test_coblentz_transmittance_path_and_pressure(tmp_path):
    x = _grid()
    t = np.ones_like(x)
    t[np.abs(x - 1000.0) < 2.0] = 0.5  # a narrow band at T = 0.5 on a baseline of 1
    extra = {"PATH LENGTH": "5 CM", "PARTIAL_PRESSURE": "50 mmHg"}
    path = write_jdx(tmp_path / "c.jdx", title="AMMONIA-LIKE", y=t, yunits="TRANSMITTANCE", extra=extra)
    spectrum = read_jcamp_spectrum(path)
    # Hand value: 50 mmHg = 50/760 atm = 65 789.47 ppm at 1 atm; column 0.05 m × 65 789.47 = 3289.474 ppm·m;
    # α = ln 2 / 3289.474 = 2.10717e-4 per ppm·m.
    band = np.abs(spectrum.wavenumber_cm1 - 1000.0) < 1.0
    np.testing.assert_allclose(spectrum.absorption_per_ppm_m[band], 2.10717e-4, rtol=1e-4)
    assert np.abs(spectrum.absorption_per_ppm_m[np.abs(x - 1400.0) < 50]).max() < 1e-12


def test_coblentz_baseline_below_one_is_ratioed_out(tmp_path):
    x = _grid()
    t = np.full_like(x, 0.9)  # digitised hard copy: baseline at 0.9, band at 0.45
    t[np.abs(x - 1000.0) < 2.0] = 0.45
    extra = {"PATH LENGTH": "10 CM", "PARTIAL_PRESSURE": "0.1 atm"}
    spectrum = read_jcamp_spectrum(write_jdx(tmp_path / "c.jdx", title="g", y=t, yunits="TRANSMITTANCE", extra=extra))
    # T/T0 = 0.5 in the band; column 0.1 m × 1e5 ppm = 1e4 ppm·m → α = ln 2 / 1e4.
    band = np.abs(spectrum.wavenumber_cm1 - 1000.0) < 1.0
    np.testing.assert_allclose(spectrum.absorption_per_ppm_m[band], math.log(2) / 1e4, rtol=1e-3)
    assert spectrum.absorption_per_ppm_m[np.abs(x - 1400.0) < 50].max() < 1e-9


def test_ppm_partial_pressure_and_micrometre_abscissa(tmp_path):
    um = np.linspace(8.0, 12.0, 801)
    t = np.exp(-np.full(um.size, 0.04))
    extra = {"PATH LENGTH": "1000 CM", "PARTIAL_PRESSURE": "40 PPM"}
    path = write_jdx(
        tmp_path / "o.jdx", title="Ozone", y=t, first_x=8.0, delta_x=0.005, xunits="MICROMETERS",
        yunits="TRANSMITTANCE", extra=extra,
    )  # fmt: skip
    spectrum = read_jcamp_spectrum(path)
    assert np.all(np.diff(spectrum.wavenumber_cm1) > 0)
    np.testing.assert_allclose(spectrum.wavenumber_cm1[[0, -1]], [1e4 / 12.0, 1e4 / 8.0], rtol=1e-9)
    # A flat optical depth of 0.04 stays ~flat after baseline ratioing only if the file's baseline is 1 somewhere:
    # here the whole spectrum is the baseline, so α ≈ 0 — the documented cost of baseline ratioing.
    assert spectrum.absorption_per_ppm_m.max() < 1e-6


@pytest.mark.parametrize(
    ("yunits", "extra", "field"),
    [
        ("ABSORBANCE", {}, "##PATH LENGTH"),
        ("TRANSMITTANCE", {"PATH LENGTH": "5 CM"}, "##PARTIAL_PRESSURE"),
        ("ARBITRARY UNITS", {}, "##YUNITS"),
        ("TRANSMITTANCE", {"PATH LENGTH": "5 parsecs", "PARTIAL_PRESSURE": "50 mmHg"}, "##PATH LENGTH"),
        ("TRANSMITTANCE", {"PATH LENGTH": "5 CM", "PARTIAL_PRESSURE": "50 furlongs"}, "##PARTIAL_PRESSURE"),
    ],
)
def test_non_quantitative_or_unknown_units_are_refused_naming_the_field(tmp_path, yunits, extra, field):
    path = write_jdx(tmp_path / "bad.jdx", title="g", y=np.full(100, 0.5), yunits=yunits, extra=extra)
    with pytest.raises(InvalidFileError) as info:
        read_jcamp_spectrum(path)
    assert info.value.field == field
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_unknown_xunits_refused(tmp_path):
    path = write_jdx(tmp_path / "bad.jdx", title="g", y=np.full(100, 1e-4), xunits="HZ")
    with pytest.raises(InvalidFileError, match="##XUNITS"):
        read_jcamp_spectrum(path)


def test_absorbance_without_amount_opt_in_and_skip(tmp_path):
    folder = tmp_path / "lib"
    folder.mkdir()
    write_jdx(folder / "a.jdx", title="Good", y=np.full(2401, 1e-4))
    y = np.zeros(2401)
    y[1000:1010] = 0.8
    write_jdx(folder / "b.jdx", title="Shape", y=y, yunits="ABSORBANCE")
    with pytest.raises(InvalidFileError, match="b.jdx: ##PATH LENGTH"):
        load_gas_library(folder)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        skipped = load_gas_library(folder, non_quantitative="skip")
    assert skipped.names == ("good",)
    assert any(issubclass(w.category, InputWarning) and "b.jdx" in str(w.message) for w in caught)
    shape = load_gas_library(folder, non_quantitative="shape")
    assert shape.names == ("good", "shape") and shape.quantitative == (True, False)
    assert np.nanmax(shape.absorption_per_ppm_m[1]) == pytest.approx(1.0, rel=1e-6)


def test_duplicate_gas_names_refused(tmp_path):
    write_jdx(tmp_path / "one.jdx", title="Acetone", y=np.full(100, 1e-4))
    write_jdx(tmp_path / "two.jdx", title="  ACETONE ", y=np.full(100, 2e-4))
    with pytest.raises(InvalidFileError, match=r"two\.jdx: ##TITLE: gas 'acetone' is also in"):
        load_gas_library(tmp_path)


def test_missing_folder_and_empty_folder_and_unknown_gas(tmp_path):
    with pytest.raises(MissingFileError):
        load_gas_library(tmp_path / "nope")
    with pytest.raises(InvalidInputError, match="no JCAMP-DX"):
        load_gas_library(tmp_path)
    write_jdx(tmp_path / "acetone.jdx", title="Acetone", y=np.full(100, 1e-4))
    with pytest.raises(InvalidInputError, match="gases: toluene not found"):
        load_gas_library(tmp_path, gases=["toluene"])


def test_gases_select_by_title_or_file_name_in_the_order_asked(tmp_path):
    write_jdx(tmp_path / "2-butanone.jdx", title="Methyl Ethyl Ketone", y=np.full(2401, 1e-4))
    write_jdx(tmp_path / "acetone.jdx", title="Acetone", y=np.full(2401, 3e-4))
    write_jdx(tmp_path / "broken.jdx", title="Broken", y=np.full(10, 1.0), yunits="NONSENSE")  # never read
    library = load_gas_library(tmp_path, gases=["Acetone", "2-butanone"])
    assert library.names == ("acetone", "2-butanone")
    np.testing.assert_allclose(
        np.nanmax(library.absorption_per_ppm_m, axis=1), np.array([3e-4, 1e-4]) * np.log(10), rtol=1e-9
    )


def test_resampling_keeps_band_area(tmp_path):
    x = 600.0 + 0.1 * np.arange(12001)  # 0.1 cm-1 spectrum, resampled onto a 0.25 cm-1 grid
    y = 1e-4 * np.exp(-0.5 * ((x - 1000.0) / 0.7) ** 2)
    write_jdx(tmp_path / "g.jdx", title="g", y=y, delta_x=0.1)
    library = load_gas_library(tmp_path)
    area_file = np.trapezoid(y, x) * np.log(10)
    inside = np.isfinite(library.absorption_per_ppm_m[0])
    area_grid = np.nansum(library.absorption_per_ppm_m[0, inside]) * 0.25
    assert area_grid == pytest.approx(area_file, rel=1e-3)


def test_convolution_conserves_a_flat_spectrum():
    grid = np.arange(700.0, 1500.0, 0.25)
    library = GasLibrary(("flat",), grid, np.full((1, grid.size), 3.0e-4), ("memory",))
    centres = np.linspace(7500.0, 12000.0, 128)
    out = convolve_to_channels(library, centres, np.full(128, 35.0))
    assert isinstance(out, SensorGasLibrary)
    assert out.absorption_per_ppm_m.shape == (1, 128)
    np.testing.assert_allclose(out.absorption_per_ppm_m, 3.0e-4, rtol=1e-10)


def test_convolution_of_a_narrow_line_keeps_its_area():
    grid = np.arange(700.0, 1500.0, 0.05)
    line_cm1 = 1000.0  # 10 µm
    alpha = np.where(np.abs(grid - line_cm1) < 0.025, 1.0, 0.0)[None, :]  # one grid cell: area 0.05 cm-1
    library = GasLibrary(("line",), grid, alpha, ("memory",))
    out = convolve_to_channels(library, np.array([10000.0]), np.array([40.0]))
    # A channel 40 nm wide at 10 µm spans 4 cm-1 FWHM; the Gaussian's peak weight per cm-1 is
    # 1 / (σ √(2π)) with σ = 4 / 2.3548 = 1.6986 cm-1 → 0.2349 per cm-1; times the line area 0.05 → 0.01174.
    assert out.absorption_per_ppm_m[0, 0] == pytest.approx(0.01174, rel=0.02)


def test_convolution_refuses_a_spectrum_not_covering_the_channels(tmp_path):
    write_jdx(tmp_path / "short.jdx", title="Short", y=np.full(801, 1e-4), first_x=900.0)  # 900-1300 cm-1
    library = load_gas_library(tmp_path)
    with pytest.raises(
        InvalidFileError,
        match=r"short\.jdx: ##XYDATA: spectrum of 'short' covers 769\d-111\d\d nm, but the sensor's channels",
    ):
        convolve_to_channels(library, np.linspace(7500.0, 12000.0, 128), np.full(128, 35.0))


def test_select_and_bad_channel_arrays():
    grid = np.arange(700.0, 1500.0, 0.25)
    library = GasLibrary(("a", "b"), grid, np.vstack([np.full(grid.size, 1.0), np.full(grid.size, 2.0)]), ("x", "y"))
    assert library.select(["B"]).names == ("b",)
    with pytest.raises(InvalidInputError, match="gases"):
        library.select(["c"])
    with pytest.raises(InvalidInputError, match="fwhm"):
        convolve_to_channels(library, np.array([9000.0, 10000.0]), np.array([30.0]))
    with pytest.raises(InvalidInputError, match="fwhm"):
        convolve_to_channels(library, np.array([9000.0]), np.array([-1.0]))


# --- the NIST spectra in ../shared/data (skipped when absent) -----------------------------------------------------


@pytest.fixture(scope="module")
def nist_folder():
    from plumetrace.shared_data import shared_data_dir

    root = shared_data_dir()
    folder = root / "lwir-gas-spectra-nist" / "jdx" if root else None
    if folder is None or not folder.is_dir():
        pytest.skip("NIST LWIR gas spectra not in ../shared/data (set PLUMETRACE_SHARED_DATA)")
    return folder


def test_nist_quant_ir_and_coblentz_files(nist_folder):
    import jcamp

    library = load_gas_library(nist_folder, gases=["acetone", "ammonia", "2-butanone"])
    assert library.names == ("acetone", "ammonia", "2-butanone")
    assert library.sources[0].endswith("acetone.jdx")
    raw = jcamp.readfile(str(nist_folder / "acetone.jdx"))
    # The resampled acetone band at 1217 cm-1 keeps the file's values × ln 10 (cell averages on a 0.25 grid).
    x, y = np.asarray(raw["x"]), np.asarray(raw["y"])
    near = (x > 1200) & (x < 1240)
    grid_near = (library.wavenumber_cm1 > 1200) & (library.wavenumber_cm1 < 1240)
    assert np.nanmax(library.absorption_per_ppm_m[0, grid_near]) == pytest.approx(y[near].max() * np.log(10), rel=0.05)
    hytes = np.linspace(7500.0, 12000.0, 256)
    sensor = convolve_to_channels(library, hytes, np.full(256, hytes[1] - hytes[0]))
    peak_um = hytes[np.argmax(sensor.absorption_per_ppm_m, axis=1)] / 1000.0
    # Published LWIR band centres: acetone C-C-C stretch 1217 cm-1 (8.22 µm); ammonia ν2 Q branches 931/965 cm-1
    # (10.74/10.36 µm); MEK 1173 cm-1 (8.5 µm) (NIST WebBook band assignments).
    assert peak_um[0] == pytest.approx(8.22, abs=0.05)
    assert 10.3 <= peak_um[1] <= 10.8
    assert peak_um[2] == pytest.approx(8.5, abs=0.1)
    # Ammonia's Coblentz spectrum (T0 ≈ 0.9 baseline, 5 cm, 50 mmHg): peak channel α of order 1e-3 per ppm·m.
    assert 2e-4 < sensor.absorption_per_ppm_m[1].max() < 5e-3


def test_nist_folder_loads_whole_with_skip(nist_folder):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        library = load_gas_library(nist_folder, non_quantitative="skip", wavenumber_range_cm1=(750.0, 1450.0))
    assert len(library.names) >= 50
    assert len(set(library.names)) == len(library.names)
    assert {"water", "1-butene"}.isdisjoint(library.names)  # absorbance without amount: left out, with a warning
    assert any("water.jdx" in str(w.message) for w in caught)


def test_tabulated_response_matches_the_gaussian_one():
    from plumetrace.spectra.gas_library import convolve_with_response

    grid = np.arange(700.0, 1500.0, 0.1)
    alpha = (1e-3 * (1 + np.cos(grid / 3.0)) * np.exp(-0.5 * ((grid - 1000.0) / 40.0) ** 2))[None, :]
    library = GasLibrary(("g",), grid, alpha, ("memory",))
    centres, fwhm = np.linspace(8000.0, 11500.0, 40), np.full(40, 30.0)
    table_wl = np.linspace(7000.0, 13000.0, 24001)
    sigma = fwhm[:, None] / 2.3548200450309493
    table = 5.0 * np.exp(-0.5 * ((table_wl - centres[:, None]) / sigma) ** 2)  # any scale
    tabulated = convolve_with_response(library, table_wl, table)
    gaussian = convolve_to_channels(library, centres, fwhm)
    np.testing.assert_allclose(tabulated.centers_nm, centres, atol=0.05)
    np.testing.assert_allclose(tabulated.fwhm_nm, fwhm, rtol=0.01)
    np.testing.assert_allclose(tabulated.absorption_per_ppm_m, gaussian.absorption_per_ppm_m, rtol=0.01, atol=1e-7)
    # A boxcar response of a flat spectrum returns the flat value.
    flat = GasLibrary(("f",), grid, np.full((1, grid.size), 2e-4), ("memory",))
    box = ((table_wl > 9000.0) & (table_wl < 9100.0)).astype(float)[None, :]
    np.testing.assert_allclose(convolve_with_response(flat, table_wl, box).absorption_per_ppm_m, 2e-4, rtol=1e-12)
    with pytest.raises(InvalidInputError, match="response"):
        convolve_with_response(flat, table_wl, -box)


def test_nist_coblentz_conversion_agrees_with_quant_ir(nist_folder):
    """NIST holds m-xylene and butadiene both as QUANT-IR (quantitative) and as Coblentz transmittance spectra:
    converted through path length, partial pressure and baseline, the Coblentz ones must land on the QUANT-IR
    scale on the HyTES-like channels (measured: slope 1.03, r 0.91; butadiene sum ratio 0.85, r 0.93, its strong
    band saturated in the cell)."""
    hytes = np.linspace(7500.0, 12000.0, 256)
    fwhm = np.full(256, hytes[1] - hytes[0])
    pairs = (("1,3-dimethylbenzene", "m-xylene"), ("1,3-butadiene", "butadiene"))
    library = load_gas_library(nist_folder, gases=[g for pair in pairs for g in pair], wavenumber_range_cm1=(700, 1600))
    alpha = convolve_to_channels(library, hytes, fwhm).absorption_per_ppm_m
    quant, cob = alpha[0], alpha[1]
    assert np.corrcoef(quant, cob)[0, 1] > 0.85
    assert 0.8 < np.dot(quant, cob) / np.dot(quant, quant) < 1.25
    quant, cob = alpha[2], alpha[3]
    assert np.corrcoef(quant, cob)[0, 1] > 0.9
    assert 0.7 < cob.sum() / quant.sum() < 1.1
