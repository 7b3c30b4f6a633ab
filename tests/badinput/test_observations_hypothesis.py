"""Any table in (or near) the documented observation layout is read or refused with a PlumetraceError, never a crash.

Tables are random subsets of the documented columns with random values (numbers, NaN, ±inf, negatives, huge
values, strings, empty cells) and 0-30 rows, written to CSV. ``read_observations`` must either return the canonical
table or raise :class:`PlumetraceError`; when it returns, the input checks of ``invert_source``
(:func:`validate_inversion_inputs`) and the background estimate that ``plumetrace invert`` runs next must do the
same.
"""

from __future__ import annotations

import math
import warnings

import pandas as pd
import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, event, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from plumetrace.errors import PlumetraceError  # noqa: E402
from plumetrace.insitu.background import estimate_background  # noqa: E402
from plumetrace.insitu.inversion import validate_inversion_inputs  # noqa: E402
from plumetrace.io.observations import read_observations  # noqa: E402

COLUMNS = (
    "time",
    "x_m",
    "y_m",
    "z_m",
    "lat",
    "lon",
    "alt_m",
    "x0_m",
    "y0_m",
    "z0_m",
    "x1_m",
    "y1_m",
    "z1_m",
    "concentration_ppm",
    "concentration_mg_m3",
    "wind_speed_m_s",
    "wind_dir_deg",
    "wind_u_m_s",
    "wind_v_m_s",
    "stability",
    "obukhov_length_m",
    "sigma_theta_deg",
    "temperature_k",
    "pressure_pa",
    "sensor",
)

numbers = st.one_of(
    st.floats(-1e3, 1e3, allow_nan=False),
    st.sampled_from([0.0, -0.0, 1e-300, -1e-3, 1e300, -1e300, math.nan, math.inf, -math.inf, 40.0, -100.0, 360.0]),
    st.integers(-(10**12), 10**12),
)
texts = st.one_of(
    st.sampled_from(["", "NaN", "abc", "D", "Z", "1e999", "--", "2026-06-01T10:00:00Z", " 3 "]),
    st.text(alphabet="abcXYZ0129.,-:;\"' ", max_size=6),
)
times = st.one_of(
    st.datetimes(
        min_value=pd.Timestamp("1970-01-01").to_pydatetime(), max_value=pd.Timestamp("2200-01-01").to_pydatetime()
    ).map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%S") + "Z"),
    texts,
)
cell = {name: st.one_of(numbers, texts) for name in COLUMNS}
cell["time"] = times
cell["stability"] = st.one_of(st.sampled_from(list("ABCDEF") + ["", "G", "d"]), numbers)


def _floats(low: float, high: float):
    return st.floats(low, high, allow_nan=False)


#: Plausible values per column: most drawn tables get past the first checks and exercise the later ones.
VALID = {
    "x_m": _floats(-500, 500),
    "y_m": _floats(-500, 500),
    "z_m": _floats(0, 10),
    "lat": _floats(39.99, 40.01),
    "lon": _floats(-100.01, -99.99),
    "alt_m": _floats(0, 10),
    "x0_m": _floats(-500, 500),
    "y0_m": _floats(-500, 500),
    "z0_m": _floats(0, 10),
    "x1_m": _floats(-500, 500),
    "y1_m": _floats(-500, 500),
    "z1_m": _floats(0, 10),
    "concentration_ppm": _floats(0, 50),
    "concentration_mg_m3": _floats(0, 50),
    "wind_speed_m_s": _floats(0.2, 30),
    "wind_dir_deg": _floats(0, 360),
    "wind_u_m_s": _floats(-20, 20),
    "wind_v_m_s": _floats(-20, 20),
    "stability": st.sampled_from(list("ABCDEF")),
    "obukhov_length_m": _floats(-500, 500),
    "sigma_theta_deg": _floats(1, 60),
    "temperature_k": _floats(250, 320),
    "pressure_pa": _floats(8e4, 1.05e5),
    "sensor": st.sampled_from(["a", "b"]),
}
EXTRAS = ("stability", "obukhov_length_m", "sigma_theta_deg", "temperature_k", "pressure_pa", "sensor", "alt_m", "z_m")
CORE = {
    "local": ("time", "x_m", "y_m", "z_m", "concentration_mg_m3", "wind_speed_m_s", "wind_dir_deg"),
    "geo": ("time", "lat", "lon", "alt_m", "concentration_ppm", "wind_u_m_s", "wind_v_m_s"),
    "beam": (
        "time",
        "x0_m",
        "y0_m",
        "z0_m",
        "x1_m",
        "y1_m",
        "z1_m",
        "concentration_mg_m3",
        "wind_speed_m_s",
        "wind_dir_deg",
    ),
    "none": (),
}


@st.composite
def tables(draw) -> pd.DataFrame:
    core = CORE[draw(st.sampled_from(["local"] * 3 + ["geo"] * 3 + ["beam"] * 2 + ["none"]))]
    extra = draw(st.lists(st.sampled_from(EXTRAS * 4 + COLUMNS), unique=True, max_size=4))
    names = list(dict.fromkeys([*core, *extra]))
    n = draw(st.integers(0, 30))
    data = {}
    for name in names:
        mode = draw(st.sampled_from(["valid"] * 12 + ["constant", "random", "one-bad"]))
        if name == "time":
            start = pd.Timestamp("2026-06-01T10:00:00Z")
            values = [(start + pd.Timedelta(seconds=i)).isoformat() for i in range(n)]
            if mode == "random":
                values = draw(st.lists(cell[name], min_size=n, max_size=n))
        elif mode == "constant":
            values = [draw(cell[name])] * n
        elif mode == "random":
            values = draw(st.lists(cell[name], min_size=n, max_size=n))
        else:
            values = draw(st.lists(VALID[name], min_size=n, max_size=n))
        if mode == "one-bad" and n:
            values[draw(st.integers(0, n - 1))] = draw(cell[name])
        data[name] = values
    return pd.DataFrame(data, columns=names)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(
    table=tables(),
    origin=st.sampled_from([None, (40.0, -100.0), (40.0, -100.0)]),
    gas=st.sampled_from([None, "ch4", "ch4", "so2"]),
)
def test_read_observations_succeeds_or_raises_plumetrace_error(tmp_path, table, origin, gas):
    path = tmp_path / "obs.csv"
    table.to_csv(path, index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)  # numpy warnings on expected input are a bug too
        try:
            obs = read_observations(path, origin=origin, gas=gas)
        except PlumetraceError as exc:
            event(f"refused: {getattr(exc, 'field', type(exc).__name__)}")
            return
        event("read")
        assert len(obs) == len(table) > 0
        assert obs["concentration_mg_m3"].notna().all() and obs["wind_speed_m_s"].gt(0.1).all()
        try:
            validate_inversion_inputs(obs)
            estimate_background(obs["concentration_mg_m3"].to_numpy(), time=obs["time"])
        except PlumetraceError:
            return
