"""Demo step 1: simulate the example EMIT scene with its known plume."""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["demo_step"]


def demo_step(ctx: Any) -> list[tuple[str, str, str, str]]:
    """Demo: simulate the example EMIT scene with a 3000 kg/h plume and write scene, truth and quicklook.

    Puts ``scene_path``, ``truth_path`` (GeoTIFF, ppm·m), ``truth_json_path``, ``quicklook_path`` and ``truth``
    (dict: source_yx, source_map_xy, rate_kg_h, wind_speed_m_s, wind_dir_deg, pixel_size_m, …) in ``ctx.products``.
    """
    from plumetrace.io.staging import staged_output
    from plumetrace.simulate.plumes import column_mass_kg
    from plumetrace.simulate.products import write_simulation

    out = Path(ctx.out_dir) / "simulate"
    # An arid production basin (soil, dry grass, shrubs): where most satellite-detected CH4 super-emitters are. Roads
    # are left out: asphalt is a known matched-filter confuser (see docs/detect.md), shown by `plumetrace simulate`.
    options = dict(
        sensor="emit",
        shape=(200, 200),
        rate_kg_h=3000.0,
        wind_speed_m_s=3.0,
        wind_dir_deg=270.0,
        seed=int(ctx.seed),
        materials=("dry_grass", "shrubs", "soil", "bright_soil"),
    )
    with staged_output(out) as stage:
        result = write_simulation(stage, **options)
    for key in ("scene_path", "truth_path", "truth_json_path", "quicklook_path"):
        ctx.products[key] = out / Path(result[key]).name
    truth = result["truth"]
    ctx.products["truth"] = truth
    plume = result["plume"]
    mass = column_mass_kg(plume.enhancement_ppm_m, plume.pixel_size_m)
    return [
        ("simulate", "scene", f"EMIT {truth['shape'][0]}x{truth['shape'][1]}x{truth['shape'][2]}, 60 m", "-"),
        (
            "simulate",
            "plume peak enhancement (truth)",
            f"{truth['peak_enhancement_ppm_m']:.0f} ppm·m",
            f"{truth['peak_enhancement_ppm_m']:.0f} ppm·m",
        ),
        (
            "simulate",
            "CH4 mass in scene (truth map vs Q x residence)",
            f"{mass:.0f} kg",
            f"{truth['rate_kg_h'] * truth['residence_time_s'] / 3600:.0f} kg",
        ),
        (
            "simulate",
            "source, rate, wind (truth)",
            f"row {plume.source_yx[0]:.0f} col {plume.source_yx[1]:.0f}",
            f"{truth['rate_kg_h']:g} kg/h, {truth['wind_speed_m_s']:g} m/s from {truth['wind_dir_deg']:g}°",
        ),
    ]
