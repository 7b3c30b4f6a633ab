"""Demo step of the plumes stage: plumes from the detection step's enhancement map, compared with the truth."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

__all__ = ["demo_step"]

Row = tuple[str, str, str, str]


def demo_step(ctx: Any) -> list[Row]:
    """Segment, locate and quantify the plume of the demo scene (``ctx.products["enhancement_path"]``).

    Writes ``<out>/plumes/`` and puts ``plumes_geojson_path`` and ``plumes_csv_path`` in ``ctx.products``. Rows:
    emission rate ± 1σ (IME, literature U_eff; and CSF) against the simulator's true rate, and the source position
    error against the reported 1σ.
    """
    from plumetrace.io.staging import staged_output
    from plumetrace.plumes.pipeline import analyze_plumes
    from plumetrace.plumes.wind import Wind
    from plumetrace.products.plumes import write_plume_outputs

    path = ctx.products.get("enhancement_path")
    truth = ctx.products.get("truth")
    if path is None or truth is None:
        return [("plumes", "skipped", "no enhancement map from the detect step", "-")]
    from plumetrace.io.cog import read_enhancement

    data = read_enhancement(path)
    speed = float(truth["wind_speed_m_s"])
    direction = float(truth["wind_dir_deg"])
    wind = Wind(speed, direction, 0.3 * speed, source="demo truth ±30 %")
    result = analyze_plumes(data, wind=wind, seed=int(ctx.seed))
    out = Path(ctx.out_dir) / "plumes"
    with staged_output(out) as stage:
        write_plume_outputs(stage, data, result, enhancement=path, final_dir=out, wind=wind)
    ctx.products["plumes_geojson_path"] = out / "plumes.geojson"
    ctx.products["plumes_csv_path"] = out / "plumes.csv"

    rate = float(truth["rate_kg_h"])
    if not result.records:
        return [("plumes", "plumes found", "0", "1"), fragmented_row(int(ctx.seed))]
    best, error_m = _nearest(result, truth)
    rows: list[Row] = [
        ("plumes", "plumes found", str(len(result.records)), "1"),
        (
            "plumes",
            "emission rate, IME (literature U_eff, wind ±30 %)",
            f"{best['emission_rate_kg_h']:.0f} ± {best['emission_rate_sigma_kg_h']:.0f} (random) "
            f"± {best['emission_rate_sigma_systematic_kg_h']:.0f} (syst.) kg/h "
            f"(68 %: {best['emission_rate_p16_kg_h']:.0f}-{best['emission_rate_p84_kg_h']:.0f}; total "
            f"{best['emission_rate_total_p16_kg_h']:.0f}-{best['emission_rate_total_p84_kg_h']:.0f})",
            f"{rate:g} kg/h",
        ),
        (
            "plumes",
            "emission rate, IME (U_eff fitted to the simulator)",
            _simulator_rate(best, speed),
            f"{rate:g} kg/h",
        ),
        (
            "plumes",
            "emission rate, CSF",
            f"{best['emission_rate_csf_kg_h']:.0f} ± {best['emission_rate_csf_sigma_kg_h']:.0f} (random) "
            f"± {best['emission_rate_csf_sigma_systematic_kg_h']:.0f} (syst.) kg/h "
            f"(68 %: {best['emission_rate_csf_p16_kg_h']:.0f}-{best['emission_rate_csf_p84_kg_h']:.0f}; total "
            f"{best['emission_rate_csf_total_p16_kg_h']:.0f}-{best['emission_rate_csf_total_p84_kg_h']:.0f})",
            f"{rate:g} kg/h",
        ),
    ]
    if error_m is not None:
        rows.append(
            ("plumes", "source position error", f"{error_m:.0f} m (reported 1σ {best['source_sigma_m']:.0f} m)", "0 m")
        )
    rows.append(fragmented_row(int(ctx.seed)))
    return rows


def fragmented_row(seed: int) -> Row:
    """A faint, wide plume (AVIRIS-NG 5 m pixels, 120 kg/h at 3 m/s, stability class B, white noise of
    150 ppm·m) that the segmentation cuts into components, joined into one plume complex with one source.

    About 0.3 s. The row reads ``N components -> M complex(es), source error E m`` against the truth of 1 source.
    """
    import numpy as np
    import xarray as xr

    from plumetrace.plumes.pipeline import analyze_plumes
    from plumetrace.plumes.wind import Wind
    from plumetrace.simulate.plumes import simulate_plume

    pixel, shape, noise = 5.0, (160, 160), 150.0
    truth = simulate_plume(120.0, 3.0, 270.0, pixel, shape, seed=5, stability_class="B")
    rng = np.random.default_rng(seed)
    noisy = truth.enhancement_ppm_m + rng.normal(0.0, noise, shape)
    data = xr.Dataset(
        {"enhancement": (("y", "x"), noisy.astype(np.float32), {"units": "ppm m"})},
        attrs={"pixel_size_m": pixel, "sensor": "aviris-ng", "gas": "ch4"},
    )
    result = analyze_plumes(data, wind=Wind(3.0, 270.0, 0.9), n_samples=400, csf_samples=20, seed=seed)
    quantity = "fragmented plume (AVIRIS-NG, class B, 120 kg/h): components -> plume complexes"
    if not result.records:
        return ("plumes", quantity, "not detected", "1 source")
    sy, sx = truth.source_yx
    error = min(math.hypot(r["source_row"] - sy, r["source_col"] - sx) for r in result.records) * pixel
    n_components = int(result.labels.attrs["n_components"])
    return (
        "plumes",
        quantity,
        f"{n_components} components -> {len(result.records)} complex(es), source error {error:.0f} m",
        "1 source",
    )


def _nearest(result: Any, truth: dict[str, Any]) -> tuple[dict[str, Any], float | None]:
    """The plume whose source is nearest the true source, and that distance in metres (None if not comparable)."""
    geometry = result.geometry
    if geometry is not None and geometry.transform is not None and truth.get("source_map_xy") is not None:
        tx, ty = (float(v) for v in truth["source_map_xy"])

        def distance(record: dict[str, Any]) -> float:
            x, y = geometry.map_xy(record["source_row"], record["source_col"])
            return math.hypot(float(x) - tx, float(y) - ty)
    elif truth.get("source_yx") is not None:
        ty, tx = (float(v) for v in truth["source_yx"])
        pixel = float(truth.get("pixel_size_m", 1.0))

        def distance(record: dict[str, Any]) -> float:
            return math.hypot(record["source_row"] - ty, record["source_col"] - tx) * pixel
    else:
        return max(result.records, key=lambda r: r["ime_kg"]), None
    best = min(result.records, key=distance)
    return best, distance(best)


def _simulator_rate(record: dict[str, Any], speed_m_s: float) -> str:
    """The same IME and L with :data:`SIMULATOR_UEFF` (the demo's plume comes from the simulator)."""
    from plumetrace.plumes.quantify import SIMULATOR_UEFF

    cal = SIMULATOR_UEFF.get(str(record["sensor"]))
    if cal is None:
        return "-"
    rate = 3600.0 * (cal.a * speed_m_s + cal.b) * record["ime_kg"] / record["length_m"]
    return f"{rate:.0f} kg/h"
