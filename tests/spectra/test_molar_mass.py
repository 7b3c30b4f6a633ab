"""Molar masses: formulas against published values, and unknown gases named."""

from __future__ import annotations

import pytest

from plumetrace.errors import InvalidInputError
from plumetrace.spectra.molar_mass import MOLECULAR_FORMULAS, formula_molar_mass_kg_mol, molar_mass_kg_mol


@pytest.mark.parametrize(
    "gas, g_mol",  # CRC Handbook / NIST Chemistry WebBook molecular weights
    [("acetone", 58.08), ("toluene", 92.14), ("ammonia", 17.031), ("dichloromethane", 84.93), ("p-xylene", 106.17),
     ("sulfur hexafluoride", 146.06), ("ch4", 16.04), ("diethyl ether", 74.12), ("acetic acid", 60.05)],
)  # fmt: skip
def test_published_molar_masses(gas, g_mol):
    assert molar_mass_kg_mol(gas) * 1000 == pytest.approx(g_mol, abs=0.02)


def test_every_formula_parses_and_names_are_lower_case():
    for name, formula in MOLECULAR_FORMULAS.items():
        assert name == name.lower()
        assert 0.001 < formula_molar_mass_kg_mol(formula) < 0.2


@pytest.mark.parametrize("formula", ["C3H6O)", "c3h6o", "(CH3)2CO", "C3Xx6"])
def test_bad_formulas_are_refused(formula):
    with pytest.raises(InvalidInputError, match="formula"):
        formula_molar_mass_kg_mol(formula)


def test_unknown_gas_names_the_gas():
    with pytest.raises(InvalidInputError, match="unobtainium"):
        molar_mass_kg_mol("unobtainium")
