"""Project Prairie Grass (Barad 1958) tracer runs → the in-situ observation layout, for validation.

Reads the Irwin digitisation as shipped in ``shared/data/prairie-grass`` (and ``tests/data/prairie_grass``):
``PGARCS.txt`` (arc concentrations, mg/m³, Q in g/s), ``modelParamList.txt`` (L, u*, wind direction, σθ,
wind speed at 2 m for 53 runs) and ``PGrassEvapLossTABLE_5_4.txt`` (Barad Table 5.4 SO2 loss factors).

Geometry: samplers sit on arcs of radius r around the source at azimuth α (degrees clockwise from north),
so east = r sin α, north = r cos α. This matches the published wind directions (the plume peak lies at
α ≈ wind direction + 180°) and the thesis ``stationCoord.txt`` (first station (0, −50) = α 180°).
Loss correction: the measured concentration is MULTIPLIED by the Table 5.4 factor of its run and arc. Irwin's
file calls the table the "evaporation loss" correction: the absorbing solution of the SO2 impingers evaporates
while sampling, which concentrates the sample, so the factors (0.88–1.00) scale the reported values down. The
pattern supports this reading: the factors are lowest on hot afternoons (runs 5–10, 19–20: 0.88–0.93) and near
1 at night (runs 3, 4, 13, 14: 0.95–1.00). The thesis code that ships these files does the same
(``C = corrFactors(k) * expData`` in GuBij/dataAssimLangevin ``Code/MATLAB/PGConc.m``). The one implausible
entry (run 12, 200 m: 0.09, a dropped digit) is replaced by the mean of the run's other arcs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from plumetrace.errors import InvalidFileError, MissingFileError

__all__ = [
    "ROUGHNESS_LENGTH_M",
    "VERY_STABLE_RUNS",
    "WIND_HEIGHT_M",
    "PrairieGrassRun",
    "load_prairie_grass",
    "load_tower_profiles",
    "run_observations",
    "tower_mean_height",
]

ROUGHNESS_LENGTH_M = 0.006  # Barad 1958; Olesen et al. 2007
WIND_HEIGHT_M = 2.0
VERY_STABLE_RUNS = (3, 4, 13, 14)


@dataclass
class PrairieGrassRun:
    """One release: ``arcs`` columns azimuth_deg, radius_m, concentration_mg_m3 (loss-corrected), loss_factor."""

    run: int
    release_rate_g_s: float
    source_height_m: float
    sampler_height_m: float
    arcs: pd.DataFrame
    obukhov_length_m: float = float("nan")
    friction_velocity_m_s: float = float("nan")
    wind_dir_deg: float = float("nan")
    sigma_theta_deg: float = float("nan")
    wind_speed_m_s: float = float("nan")
    start: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def has_meteorology(self) -> bool:
        return bool(np.isfinite(self.obukhov_length_m) and np.isfinite(self.wind_speed_m_s))


def _loss_table(path: Path) -> dict[tuple[int, float], float]:
    table: dict[tuple[int, float], float] = {}
    radii = (50.0, 100.0, 200.0, 400.0, 800.0)
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) == 6 and parts[0].isdigit():
            vals = np.array([float(v) for v in parts[1:]])
            good = vals >= 0.5
            vals[~good] = vals[good].mean()
            for r, v in zip(radii, vals):
                table[(int(parts[0]), r)] = float(v)
    return table


def load_prairie_grass(folder: str | os.PathLike) -> list[PrairieGrassRun]:
    """Parse the Prairie Grass files in ``folder``; runs sorted by number."""
    folder = Path(folder)
    arcs_path = folder / "PGARCS.txt"
    if not arcs_path.is_file():
        raise MissingFileError(arcs_path, "Prairie Grass arc file")
    loss = (
        _loss_table(folder / "PGrassEvapLossTABLE_5_4.txt")
        if (folder / "PGrassEvapLossTABLE_5_4.txt").is_file()
        else {}
    )
    met: dict[int, list[float]] = {}
    if (folder / "modelParamList.txt").is_file():
        for line in (folder / "modelParamList.txt").read_text().splitlines():
            if line.strip():
                vals = [float(v) for v in line.split()]
                met[int(vals[0])] = vals
    lines = arcs_path.read_text().splitlines()
    runs: dict[int, dict] = {}
    i = 0
    try:
        while i < len(lines):
            if not lines[i].strip():
                i += 1
                continue
            head = [v.strip().strip("'") for v in lines[i].split(",")]
            run, radius = int(head[0]), float(head[4])
            second = [v.strip() for v in lines[i + 1].split(",")]
            n, q, hs, hr = int(second[0]), float(second[7]), float(second[8]), float(second[9])
            rows = np.array([[float(v) for v in lines[i + 2 + k].split()] for k in range(n)])
            entry = runs.setdefault(run, dict(q=q, hs=hs, hr=hr, start=f"{head[2]} {head[3]}", parts=[]))
            lf = loss.get((run, radius), 1.0)
            keep = rows[:, 3] >= 0  # -9 marks missing
            entry["parts"].append(
                pd.DataFrame(
                    {
                        "azimuth_deg": rows[keep, 0],
                        "radius_m": radius,
                        "concentration_mg_m3": rows[keep, 3] * lf,
                        "loss_factor": lf,
                    }
                )
            )
            i += 2 + n
    except (ValueError, IndexError) as exc:
        raise InvalidFileError(arcs_path, f"line {i + 1}", f"malformed arc block ({exc})") from None
    out = []
    for run in sorted(runs):
        e = runs[run]
        m = met.get(run)
        kw = {}
        if m is not None:
            kw = dict(
                obukhov_length_m=m[1],
                friction_velocity_m_s=m[2],
                wind_dir_deg=m[4],
                sigma_theta_deg=m[8],
                wind_speed_m_s=m[9],
            )
        out.append(
            PrairieGrassRun(
                run=run,
                release_rate_g_s=e["q"],
                source_height_m=e["hs"],
                sampler_height_m=e["hr"],
                arcs=pd.concat(e["parts"], ignore_index=True),
                start=e["start"],
                **kw,
            )
        )
    return out


def run_observations(run: PrairieGrassRun) -> pd.DataFrame:
    """One run as a raw table in the documented observation layout (local x_m/y_m/z_m, source at the origin)."""
    a = np.deg2rad(run.arcs["azimuth_deg"].to_numpy())
    r = run.arcs["radius_m"].to_numpy()
    n = len(r)
    return pd.DataFrame(
        {
            "time": pd.Timestamp("1956-07-01T00:00:00Z"),
            "x_m": r * np.sin(a),
            "y_m": r * np.cos(a),
            "z_m": np.full(n, run.sampler_height_m),
            "concentration_mg_m3": run.arcs["concentration_mg_m3"].to_numpy(),
            "wind_speed_m_s": run.wind_speed_m_s,
            "wind_dir_deg": run.wind_dir_deg,
            "obukhov_length_m": run.obukhov_length_m,
            "sigma_theta_deg": run.sigma_theta_deg,
        }
    )


def load_tower_profiles(folder: str | os.PathLike) -> dict[int, pd.DataFrame]:
    """Barad Table 5.3 (``PGVertConc.txt``): per run, concentrations (mg/m³) at 9 heights on 6 towers of the 100 m arc.

    Returns ``{run: DataFrame}`` with index ``height_m`` (ascending) and one column per tower azimuth (degrees);
    missing values (−9) are NaN.
    """
    path = Path(folder) / "PGVertConc.txt"
    if not path.is_file():
        raise MissingFileError(path, "Prairie Grass tower file")
    out: dict[int, pd.DataFrame] = {}
    for block in path.read_text().split("Run No.")[1:]:
        lines = [ln for ln in block.strip().splitlines() if ln.strip()]
        try:
            run = int(lines[0].split()[0])
            azimuths = [float(v) for v in lines[1].split()[1:]]
            rows = np.array([[float(v) for v in ln.split()] for ln in lines[2:11]])
        except (ValueError, IndexError):
            raise InvalidFileError(path, f"run block {block.split()[0]!r}", "malformed tower block") from None
        if rows.shape != (9, len(azimuths) + 1):
            continue
        table = pd.DataFrame(
            np.where(rows[:, 1:] < 0, np.nan, rows[:, 1:]),
            index=pd.Index(rows[:, 0], name="height_m"),
            columns=azimuths,
        )
        out[run] = table.sort_index()
    return out


def tower_mean_height(profile: pd.DataFrame) -> float:
    """Mean plume height z̄ = ∫ z C dz / ∫ C dz (m) on the tower with the largest column sum.

    The profile is extended to the ground with the lowest reading (0.5 m); NaN when that tower has a gap or no
    plume. Profiles that still carry > 10 % of their peak at the top level (17.5 m) are truncated, so z̄ is then
    a lower bound.
    """
    col = profile.sum(skipna=False)
    if not np.isfinite(col).any() or np.nanmax(col) <= 0:
        return float("nan")
    c = profile[col.idxmax()].to_numpy(float)
    if np.isnan(c).any():
        return float("nan")
    z = np.r_[0.0, profile.index.to_numpy(float)]
    c = np.r_[c[0], c]
    return float(np.trapezoid(z * c, z) / np.trapezoid(c, z))
