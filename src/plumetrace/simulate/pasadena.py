"""The Pasadena validation set: AVIRIS-NG radiance (2017-11-08) and ASD ground reflectance of the same targets.

The files live in ``../shared/data/swir-scenes/aviris-ng-pasadena`` (ISOFIT example, Apache-2.0). The simulator's
test and the benchmark ``python -m benchmarks.simulate`` both compare its radiance for the measured reflectance with the
measured radiance.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

__all__ = ["PASADENA_PAIRS", "PasadenaTarget", "load_pasadena_targets", "simulate_pasadena_radiance"]

# ASD ground reflectance file (insitu/) ↔ AVIRIS-NG radiance region (remote/), paired by target name.
PASADENA_PAIRS = {
    "AstroGreenBaseball": "AstroGreenBaseball",
    "AstroRedBaseball": "AstroRedBaseball",
    "BeckmanLawn": "BeckmanLawn",
    "DarkTarget_Trial1": "darklot",
    "Horse_Trial2": "horse",
}
_LAT_DEG, _LON_DEG, _DAY_OF_YEAR = 34.14, -118.12, 312


@dataclass(frozen=True)
class PasadenaTarget:
    """One calibration target: reflectance (wavelength nm, value), measured radiance (wavelength nm, µW cm⁻² sr⁻¹ nm⁻¹)."""

    insitu: str
    remote: str
    reflectance: np.ndarray
    measured: np.ndarray
    solar_zenith_deg: float


def load_pasadena_targets(root: str | Path) -> list[PasadenaTarget]:
    """Read the five paired targets; the solar zenith comes from the flight time in the radiance file name."""
    from plumetrace.spectra.solar import solar_zenith_deg

    root = Path(root)
    targets = []
    for insitu, remote in PASADENA_PAIRS.items():
        reflectance = np.loadtxt(root / "insitu" / f"{insitu}.txt", comments="#")
        (remote_path,) = (root / "remote").glob(f"*_rdn_v2p11_{remote}.txt")
        stamp = remote_path.name.split("ang20171108t")[1][:6]
        when = datetime(2017, 11, 8, int(stamp[:2]), int(stamp[2:4]), int(stamp[4:6]), tzinfo=timezone.utc)
        targets.append(
            PasadenaTarget(
                insitu, remote, reflectance, np.loadtxt(remote_path), solar_zenith_deg(when, _LAT_DEG, _LON_DEG)
            )
        )
    return targets


def simulate_pasadena_radiance(target: PasadenaTarget) -> np.ndarray:
    """AVIRIS-NG band radiance the forward model gives for the target's measured reflectance and geometry."""
    from plumetrace.simulate.radiance import ForwardModel, reflectance_to_grid
    from plumetrace.simulate.sensors import get_sensor

    model = ForwardModel(
        target.measured[:, 0],
        get_sensor("aviris-ng").fwhm_nm,
        solar_zenith_deg=target.solar_zenith_deg,
        day_of_year=_DAY_OF_YEAR,
    )
    grid = model.grid_nm
    return model.band_radiance(reflectance_to_grid(target.reflectance[:, 0], target.reflectance[:, 1], grid))
