"""The demo's LWIR step: the two gases of the simulated plume identified, their columns near the truth."""

from __future__ import annotations

import pytest

from plumetrace.demo import DemoContext
from plumetrace.demo.lwir import DEMO_GASES, _library_folder, demo_step


@pytest.mark.shared_data
def test_lwir_step_identifies_both_gases(tmp_path):
    if _library_folder() is None:
        pytest.skip("NIST LWIR spectra not in PLUMETRACE_SHARED_DATA")
    rows = demo_step(DemoContext(out_dir=tmp_path, seed=7))
    results = {quantity: result for _, quantity, result, _ in rows}
    identified = next(v for k, v in results.items() if k.startswith("gases identified"))
    assert identified.split(" (")[0] == " + ".join(DEMO_GASES)
    for gas, true_column in DEMO_GASES.items():
        value = float(results[f"{gas} column, mean over the true plume"].split()[0])
        assert value == pytest.approx(true_column, rel=0.25)  # benchmark: median bias -6 %
    assert (tmp_path / "lwir" / "detect" / "identification.json").is_file()
    assert not (tmp_path / "lwir" / "library-links").exists()  # the spectra were linked, never left in the output


def test_lwir_step_without_spectra_is_skipped(tmp_path, monkeypatch):
    import plumetrace.demo.lwir as step

    monkeypatch.setattr(step, "_library_folder", lambda: None)
    (row,) = step.demo_step(DemoContext(out_dir=tmp_path, seed=7))
    assert row[2] == "skipped"
