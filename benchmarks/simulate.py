"""Foundation benchmark: simulator realism on real AVIRIS-NG data, and simulator speed / memory.

Skill: for the five Pasadena calibration targets (ASD ground reflectance ↔ AVIRIS-NG L1B radiance, 2017-11-08;
../shared/data/swir-scenes/aviris-ng-pasadena) simulate AVIRIS-NG radiance from the measured reflectance and
correlate it with the measured radiance over 2.0-2.45 µm after one least-squares gain. In the same run, a baseline
without atmosphere (reflectance × Kurucz E0 cos θs / π, same band convolution) shows what the atmosphere adds.

Speed: each case runs in its own child process (wall time and peak RSS via benchmarks/_common.run_child):
``simulate_scene`` 200×200×285 EMIT in memory, and a 1280×1242×285 EMIT flight line streamed to ENVI
(``write_simulated_envi``; 1.8 GB file). ``--quick`` uses 100×100 and 320×1242.

    python -m benchmarks.simulate [--quick] [--json OUT] [--plot docs/img/simulate_pasadena.png]
"""

from __future__ import annotations

import math
import sys
import tempfile
from pathlib import Path

import numpy as np

from ._common import make_parser, print_table, python_in_main_venv, run_child, write_json


def pasadena(root: Path) -> list[dict]:
    from plumetrace.simulate.pasadena import load_pasadena_targets, simulate_pasadena_radiance
    from plumetrace.simulate.sensors import get_sensor
    from plumetrace.spectra.response import gaussian_response_matrix
    from plumetrace.spectra.solar import solar_irradiance

    sensor = get_sensor("aviris-ng")
    rows = []
    for target in load_pasadena_targets(root):
        insitu, remote, refl, meas, sza = (
            target.insitu,
            target.remote,
            target.reflectance,
            target.measured,
            target.solar_zenith_deg,
        )
        sim = simulate_pasadena_radiance(target)
        # Baseline: no atmosphere at all, on the Kurucz 0.1 nm grid.
        grid = np.arange(1990.0, 2460.0, 0.1)
        matrix = gaussian_response_matrix(grid, meas[:, 0], sensor.fwhm_nm)
        base = matrix @ (
            np.interp(grid, refl[:, 0], refl[:, 1]) * solar_irradiance(grid) * math.cos(math.radians(sza)) / math.pi
        )
        window = (meas[:, 0] >= 2000.0) & (meas[:, 0] <= 2450.0)
        m = meas[window, 1]
        row = {"target": f"{insitu} ↔ {remote}", "sza_deg": round(sza, 1)}
        for label, s in (("plumetrace", sim[window]), ("no-atmosphere", base[window])):
            gain = float(s @ m / (s @ s))
            row[f"r_{label}"] = round(float(np.corrcoef(s, m)[0, 1]), 4)
            row[f"gain_{label}"] = round(gain, 3)
        row["rms_rel_plumetrace"] = round(
            float(np.sqrt(np.mean((row["gain_plumetrace"] * sim[window] - m) ** 2)) / m.mean()), 3
        )
        row["_curves"] = (meas[window, 0], m, row["gain_plumetrace"] * sim[window])
        rows.append(row)
    return rows


_CASE = """
import sys, time
from plumetrace.simulate.scene import simulate_scene, write_simulated_envi
ny, nx, mode, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
t = time.perf_counter()
if mode == "memory":
    scene, truth = simulate_scene(sensor="emit", shape=(ny, nx), seed=1)
    scene["radiance"].values.sum()
else:
    write_simulated_envi(out, sensor="emit", shape=(ny, nx), seed=1)
print(time.perf_counter() - t)
"""


def speed(quick: bool, data_dir: Path) -> list[dict]:
    py = python_in_main_venv()
    cases = [
        ("in memory", 100 if quick else 200, 100 if quick else 200, "memory"),
        ("streamed to ENVI", 320 if quick else 1280, 1242, "envi"),
    ]
    rows = []
    with tempfile.TemporaryDirectory(dir=data_dir if data_dir.is_dir() else None) as tmp:
        for label, ny, nx, mode in cases:
            out = str(Path(tmp) / f"sim_{ny}x{nx}_rdn")
            run = run_child(label, [py, "-c", _CASE, str(ny), str(nx), mode, out])
            if run.returncode != 0:
                print(run.stderr, file=sys.stderr)
            size = Path(out).stat().st_size / 2**30 if Path(out).exists() else 0.0
            inner = float(run.stdout.strip().splitlines()[-1]) if run.stdout.strip() else float("nan")
            rows.append(
                {
                    "case": label,
                    "shape": f"{ny}x{nx}x285",
                    "wall_s (process)": run.wall_s,
                    "simulate_s (in process)": inner,
                    "peak_rss_mib": run.peak_rss_bytes / 2**20,
                    "file_gib": round(size, 2),
                    "cube_gib": round(ny * nx * 285 * 4 / 2**30, 2),
                }
            )
    return rows


def plot(rows: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(rows), figsize=(3.2 * len(rows), 3.2), sharex=True)
    for ax, row in zip(np.atleast_1d(axes), rows):
        wl, measured, simulated = row["_curves"]
        ax.plot(wl, measured, "k-", lw=1.2, label="AVIRIS-NG measured")
        ax.plot(wl, simulated, "r--", lw=1.0, label=f"simulated x {row['gain_plumetrace']:.2f}")
        ax.set_title(f"{row['target'].split(' ')[0]}\nr = {row['r_plumetrace']:.4f}", fontsize=8)
        ax.set_xlabel("wavelength (nm)", fontsize=8)
        ax.tick_params(labelsize=7)
    np.atleast_1d(axes)[0].set_ylabel("radiance (µW cm⁻² sr⁻¹ nm⁻¹)", fontsize=8)
    np.atleast_1d(axes)[0].legend(fontsize=7)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    print(f"wrote {path}")


def main() -> None:
    parser = make_parser(__doc__.splitlines()[0])
    parser.add_argument("--plot", type=Path, default=None, help="write the Pasadena spectra plot (PNG) here")
    args = parser.parse_args()
    from plumetrace.shared_data import shared_data_dir

    root = shared_data_dir()
    payload: dict = {}
    if root is None:
        print("../shared/data not found: skipping the Pasadena skill benchmark", file=sys.stderr)
    else:
        skill = pasadena(root / "swir-scenes" / "aviris-ng-pasadena")
        print_table(
            skill,
            [
                "target",
                "sza_deg",
                "r_plumetrace",
                "gain_plumetrace",
                "rms_rel_plumetrace",
                "r_no-atmosphere",
                "gain_no-atmosphere",
            ],
            title="Simulated vs measured AVIRIS-NG radiance, 2.0-2.45 µm (Pasadena 2017-11-08)",
        )
        if args.plot:
            plot(skill, args.plot)
        payload["pasadena"] = [{k: v for k, v in row.items() if not k.startswith("_")} for row in skill]
    timing = speed(args.quick, args.data_dir)
    print_table(
        timing,
        ["case", "shape", "wall_s (process)", "simulate_s (in process)", "peak_rss_mib", "cube_gib", "file_gib"],
        title="Simulator speed and memory (EMIT preset)",
    )
    payload["speed"] = timing
    write_json(args.json, payload)


if __name__ == "__main__":
    main()
