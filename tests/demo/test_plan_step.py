"""The demo step plans, writes and re-checks a survey; its rows meet their stated truths."""

from __future__ import annotations

from plumetrace.demo import DemoContext
from plumetrace.demo.plan import demo_step


def test_demo_step_rows_meet_truth(tmp_path):
    ctx = DemoContext(out_dir=tmp_path, seed=7)
    rows = {q: (r, t) for _, q, r, t in demo_step(ctx)}
    assert float(rows["coverage of coverable area"][0].rstrip(" %")) >= 99.0
    assert rows["legs entering buffered no-fly zone"][0] == "0"
    n, truth = rows["sorties (15 min endurance)"]
    assert int(n) >= int(truth.split()[1])
    assert (ctx.products["plan_dir"] / "sortie_01.plan").is_file()
