"""Demo step: a simulated drone survey around a known source; retrieved Q and position vs truth."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["demo_step"]


def demo_step(ctx: Any) -> list[tuple[str, str, str, str]]:
    from plumetrace.insitu.inversion import invert_source
    from plumetrace.io.observations import validate_observations
    from plumetrace.io.staging import staged_output
    from plumetrace.products.insitu import write_inversion_products
    from plumetrace.simulate.observations import simulate_survey

    raw, truth = simulate_survey(kind="drone", emission_rate_g_s=5.0, source_xyz_m=(15.0, -10.0, 2.0), seed=ctx.seed)
    raw = raw.iloc[::3].reset_index(drop=True)  # a 1-in-3 s log: neighbouring 1 Hz samples are strongly correlated
    obs = validate_observations(raw, origin=(31.9, -102.3), gas="ch4", source="demo-drone")
    res = invert_source(obs, source_heights_m=(2.0,), seed=ctx.seed)
    out = ctx.out_dir / "invert"
    with staged_output(out) as stage:
        raw.to_csv(stage / "drone.csv", index=False)
        write_inversion_products(stage, res, obs, title="demo drone survey")
    ctx.products["invert_summary"] = out / "summary.json"
    err = float(np.hypot(res.x_m - truth["x_m"], res.y_m - truth["y_m"]))
    return [
        (
            "invert",
            "CH4 rate (g/s)",
            f"{res.q_g_s:.2f} [{res.q_95_g_s[0]:.2f}-{res.q_95_g_s[1]:.2f}]",
            f"{truth['emission_rate_g_s']:.2f}",
        ),
        ("invert", "source position error (m)", f"{err:.1f}", "0"),
    ]
