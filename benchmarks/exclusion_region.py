"""exclusion_region: the albedo-corrected filter with an analyst's plume region kept out of the statistics.

    python benchmarks/exclusion_region.py [--quick] [--json OUT] [--seeds 6] [--first-seed 100]

Same scenes and bias definition as ``mf_bias.py`` / ``bias_sources.py`` (100·(Σ retrieved − Σ truth)/Σ truth over
plume pixels with 100 ≤ truth < 2000 ppm·m, pooled over the 100, 700 and 5000 ppm·m peaks; ``response`` subtracts the
same variant's retrieval on the plume-free twin pixel by pixel). Procedural scenes are 200 px, as in detect_skill;
Jasper Ridge is its 100 × 100 cube.

The region is what an analyst would draw from a known facility and a wind reading: a sector downwind of the source,
±30° about the mean wind, out to the scene edge, plus a 10 px disc around the source. ``detect_scene(exclude=…)``
keeps its pixels out of the background statistics (``plumetrace detect --exclude``). Sessions 4–6 found that the
remaining bias is the plume's faint tail in the background mean, which no mask built from the scene alone reaches;
this measures what knowing the region buys, and what it costs: the region's own ground is then measured against the
rest of the scene's background (``surface offset`` = total − response).

Seeds 100 and up (detect_skill holds out 2–21). ± is the bootstrap standard error over seeds.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

import mf_bias  # noqa: E402
from _common import print_table, write_json  # noqa: E402
from detect_skill import plume_placement  # noqa: E402

from plumetrace.detect.exclusion import downwind_sector  # noqa: E402

HALF_ANGLE_DEG = 30.0
SOURCE_DISC_PX = 10.0
#: (surface, sensor, scene side in px)
FAMILIES = (("procedural", "emit", 200), ("procedural", "aviris-ng", 200), ("jasper-ridge", "emit", 100),
            ("jasper-ridge", "aviris-ng", 100))


def retrieve(scene: Any, exclude: np.ndarray | None) -> np.ndarray:
    from plumetrace.detect.engine import detect_scene

    ds = detect_scene(scene, gas="ch4", window_nm=mf_bias.WINDOW_NM, method="mf", albedo_correct=True,
                      exclude=exclude, progress=False)
    return np.asarray(ds["enhancement"].values, dtype=np.float64)


def family_rows(surface: str, sensor: str, size: int, seeds: range, shared: Path) -> list[dict[str, Any]]:
    mf_bias.SHAPE = (size, size)
    # (retrieved, truth, seed index) for the total, (retrieved − twin's retrieved, …) for the response
    pairs = {v: ([], []) for v in ("engine (default)", "downwind sector excluded")}
    share, tail_inside = [], []
    for k, seed in enumerate(seeds):
        wind_from_deg, source_yx = plume_placement(seed, mf_bias.SHAPE)
        region = downwind_sector(mf_bias.SHAPE, source_yx, wind_from_deg, half_angle_deg=HALF_ANGLE_DEG,
                                 disc_px=SOURCE_DISC_PX)
        share.append(float(region.mean()))
        scenes = mf_bias.family_scenes(surface, sensor, seed, shared)
        twin = scenes[0][1]  # one plume-free twin per seed
        twin_retrieved = {variant: retrieve(twin, exclude) for variant, exclude in zip(pairs, (None, region))}
        for scene, _twin, truth in scenes:
            plume = truth >= 100.0
            if plume.any():
                tail_inside.append(float(truth[plume & region].sum() / truth[plume].sum()))
            for variant, exclude in zip(pairs, (None, region)):
                retrieved = retrieve(scene, exclude)
                pairs[variant][0].append((retrieved, truth, k))
                pairs[variant][1].append((retrieved - twin_retrieved[variant], truth, k))
    rows = []
    for variant, (total_pairs, response_pairs) in pairs.items():
        bias, _, _, bias_se = mf_bias.bias_with_interval(total_pairs, len(seeds))
        response, _, _, response_se = mf_bias.bias_with_interval(response_pairs, len(seeds))
        rows.append({"family": f"{surface}/{sensor}", "size_px": size, "variant": variant, "bias_pct_below_2000": bias,
                     "bias_se": bias_se, "response_bias_pct": response, "response_se": response_se,
                     "surface_offset_pct": bias - response, "region_share_pct": 100.0 * float(np.mean(share)),
                     "plume_mass_in_region_pct": 100.0 * float(np.mean(tail_inside))})
    return rows


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args, shared, seeds = mf_bias.seeded_arguments(__doc__, argv)
    t0 = time.perf_counter()
    present = mf_bias.surfaces_present(shared, ("procedural", "jasper-ridge"))
    rows = []
    for surface, sensor, size in FAMILIES:
        if surface in present:
            rows += family_rows(surface, sensor, 100 if args.quick else size, seeds, shared)
    print_table(rows, ["family", "size_px", "variant", "bias_pct_below_2000", "bias_se", "response_bias_pct", "response_se",
                       "surface_offset_pct", "region_share_pct", "plume_mass_in_region_pct"],
                title=f"albedo-corrected MF; region: ±{HALF_ANGLE_DEG:g}° downwind sector + {SOURCE_DISC_PX:g} px disc")
    result = {"seeds": list(seeds), "peaks_ppm_m": list(mf_bias.PEAKS_PPM_M), "half_angle_deg": HALF_ANGLE_DEG,
              "source_disc_px": SOURCE_DISC_PX, "rows": rows, "wall_s": time.perf_counter() - t0}
    write_json(args.json, result)
    return result


if __name__ == "__main__":
    main()
