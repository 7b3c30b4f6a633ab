"""Molar masses of the gases plumetrace quantifies: a column in ppm·m becomes a mass only with the gas's molar mass.

Formulas in Hill notation for the SWIR gases and the LWIR solvents, reagents and industrial gases of common
spectral libraries (the names :func:`plumetrace.spectra.jcamp_library.normalise_gas_name` gives their titles, and
usual synonyms); masses from the IUPAC standard atomic weights (conventional values, CIAAW 2021).
"""

from __future__ import annotations

import re

from plumetrace.errors import InvalidInputError

__all__ = ["ATOMIC_MASS_G_MOL", "MOLECULAR_FORMULAS", "formula_molar_mass_kg_mol", "molar_mass_kg_mol"]

ATOMIC_MASS_G_MOL = {
    "H": 1.008, "C": 12.011, "N": 14.007, "O": 15.999, "F": 18.998, "P": 30.974, "S": 32.06, "Cl": 35.45,
    "Br": 79.904, "I": 126.904, "Si": 28.085,
}  # fmt: skip

_C8H10 = "C8H10"  # xylenes and ethylbenzene
_C4H10 = "C4H10"
_C5H12 = "C5H12"
MOLECULAR_FORMULAS: dict[str, str] = {
    # SWIR gases
    "ch4": "CH4", "co2": "CO2", "n2o": "N2O", "nh3": "NH3", "methane": "CH4", "carbon dioxide": "CO2",
    "nitrous oxide": "N2O", "carbon monoxide": "CO", "water": "H2O", "ozone": "O3",
    # solvents, reagents and industrial gases seen in the long-wave infrared
    "acetone": "C3H6O", "toluene": "C7H8", "methanol": "CH4O", "ethanol": "C2H6O", "dichloromethane": "CH2Cl2",
    "diethyl ether": "C4H10O", "ammonia": "NH3", "acetic acid": "C2H4O2", "methyl ethyl ketone": "C4H8O",
    "2-butanone": "C4H8O", "ethyl acetate": "C4H8O2", "chloroform": "CHCl3", "2-propanol": "C3H8O",
    "isopropyl alcohol": "C3H8O", "1-butanol": "C4H10O", "tetrachloroethene": "C2Cl4",
    "1,1,1-trichloroethane": "C2H3Cl3", "1,1-dichloroethene": "C2H2Cl2", "1,2-dichloroethane": "C2H4Cl2",
    "1,2-dimethylbenzene": _C8H10, "1,3-dimethylbenzene": _C8H10, "1,4-dimethylbenzene": _C8H10,
    "benzene, 1,3-dimethyl-": _C8H10, "o-xylene": _C8H10, "m-xylene": _C8H10, "p-xylene": _C8H10,
    "ethylbenzene": _C8H10, "benzene": "C6H6", "chlorobenzene": "C6H5Cl", "acetonitrile": "C2H3N",
    "acrylonitrile": "C3H3N", "1,3-butadiene": "C4H6", "butadiene": "C4H6", "butane": _C4H10, "n-butane": _C4H10,
    "iso-butane": _C4H10, "n-pentane": _C5H12, "iso-pentane": _C5H12, "neo-pentane": _C5H12, "propane": "C3H8",
    "propylene": "C3H6", "ethane": "C2H6", "ethylene": "C2H4", "1-butene": "C4H8", "iso-butylene": "C4H8",
    "n-heptane": "C7H16", "carbon tetrafluoride": "CF4", "hexafluoroethane": "C2F6", "pentafluoroethane": "C2HF5",
    "dichlorodifluoromethane": "CCl2F2", "ethyl acrylate": "C5H8O2", "ethyl tert-butyl ether": "C6H14O",
    "methyl tert-butyl ether": "C5H12O", "ethylene oxide": "C2H4O", "propylene oxide": "C3H6O",
    "hydrogen sulfide": "H2S", "sulfur dioxide": "O2S", "sulfur hexafluoride": "F6S", "bromomethane": "CH3Br",
    "methyl iodide": "CH3I", "vinyl acetate": "C4H6O2", "vinyl chloride": "C2H3Cl", "formaldehyde": "CH2O",
    "hydrogen chloride": "ClH",
}  # fmt: skip


def formula_molar_mass_kg_mol(formula: str) -> float:
    """Molar mass (kg/mol) of a formula without brackets, e.g. ``C3H6O`` → 0.05808."""
    parts = re.findall(r"([A-Z][a-z]?)(\d*)", formula)
    if not parts or "".join(e + n for e, n in parts) != formula:
        raise InvalidInputError("formula", f"{formula!r} is not a plain formula such as C3H6O")
    try:
        grams = sum(ATOMIC_MASS_G_MOL[element] * (int(count) if count else 1) for element, count in parts)
    except KeyError as exc:
        raise InvalidInputError("formula", f"{formula!r}: unknown element {exc.args[0]}") from None
    return grams / 1000.0


def molar_mass_kg_mol(gas: str) -> float:
    """Molar mass (kg/mol) of a gas by name (case-insensitive); InvalidInputError ("gas") when unknown."""
    key = str(gas).strip().lower()
    if key not in MOLECULAR_FORMULAS:
        raise InvalidInputError(
            "gas", f"unknown gas {gas!r}: its molar mass is needed to turn ppm·m into kg (known: ch4, co2, acetone, …)"
        )
    return formula_molar_mass_kg_mol(MOLECULAR_FORMULAS[key])
