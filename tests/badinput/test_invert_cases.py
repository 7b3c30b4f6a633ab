"""`plumetrace invert`: bad options and bad sensor logs are refused in one line, exit 2."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.badinput.harness import Case, check_rejected, ids, write_bytes, write_text


def _local(*options):
    """The valid local-coordinate log (x_m/y_m, --origin 40,-100) with ``options``."""
    return lambda i, t: ["invert", i.local_observations_csv, "--origin", "40,-100", *options]


def _edited(edit, *, name: str = "bad.csv", local: bool = True, options=()):
    """A copy of a valid log, changed by ``edit(DataFrame) -> DataFrame``, written as CSV to ``tmp/name``."""

    def argv(i, t):
        source = i.local_observations_csv if local else i.observations_csv
        df = edit(pd.read_csv(source))
        path = t / name
        df.to_csv(path, index=False)
        extra = ["--origin", "40,-100"] if local else ["--gas", "ch4"]
        return ["invert", path, *extra, *options]

    return argv


def _set(column: str, value, rows=slice(None)):
    def edit(df):
        df = df.copy()
        if column not in df:
            df[column] = value
        df[column] = df[column].astype(object)
        df.loc[df.index[rows], column] = value
        return df

    return edit


def _drop(*columns: str):
    return lambda df: df.drop(columns=list(columns))


def _raw(text: str | bytes, name: str = "bad.csv", *options):
    def argv(i, t):
        path = write_bytes(t, name, text) if isinstance(text, bytes) else write_text(t, name, text)
        return ["invert", path, "--origin", "40,-100", *options]

    return argv


BAD = "{tmp}/bad.csv"

CASES = [
    # physics options
    Case("roughness-zero", _local("--roughness", "0"), ("--roughness", "> 0")),
    Case("roughness-negative", _local("--roughness", "-1"), ("--roughness", "-1")),
    Case("roughness-nan", _local("--roughness", "nan"), ("--roughness", "finite")),
    Case("roughness-above-wind-height", _local("--roughness", "20"), ("--roughness", "wind height")),
    Case("wind-height-zero", _local("--wind-height", "0"), ("--wind-height", "(0, 500]")),
    Case("wind-height-negative", _local("--wind-height", "-5"), ("--wind-height",)),
    Case("wind-height-inf", _local("--wind-height", "inf"), ("--wind-height", "finite")),
    Case("source-known-nan", _local("--source-xy", "nan,nan"), ("--source-xy", "finite")),
    Case("source-known-garbage", _local("--source-xy", "here"), ("--source-xy", "'here'")),
    Case("source-known-one-number", _local("--source-xy", "10"), ("--source-xy", "2 comma-separated")),
    Case(
        "source-known-outside-prior-box",
        _local("--source-xy", "500,0", "--prior-box-xy", "-100,100,-100,100"),
        ("--source-xy", "outside the prior box"),
    ),
    Case("prior-box-xmin-above-xmax", _local("--prior-box-xy", "100,-100,-100,100"), ("--prior-box-xy", "xmin < xmax")),
    Case("prior-box-infinite", _local("--prior-box-xy", "-inf,100,-100,100"), ("--prior-box-xy", "finite")),
    Case("prior-box-three-numbers", _local("--prior-box-xy", "0,1,2"), ("--prior-box-xy", "4 comma-separated")),
    Case("source-height-negative", _local("--source-height", "-1"), ("--source-height", ">= 0")),
    Case("source-height-garbage", _local("--source-height", "low"), ("--source-height", "'low'")),
    Case("source-height-nan", _local("--source-height", "1,nan"), ("--source-height", "finite")),
    Case("wind-average-negative", _local("--wind-average", "-5"), ("--wind-average", ">= 0")),
    Case("wind-average-nan", _local("--wind-average", "nan"), ("--wind-average", "finite")),
    Case("background-negative", _local("--background-mg-m3", "-1"), ("--background-mg-m3", ">= 0")),
    Case("background-nan", _local("--background-mg-m3", "nan"), ("--background-mg-m3", "finite")),
    Case("seed-negative", _local("--seed", "-1"), ("--seed", ">= 0")),
    Case(
        "origin-garbage",
        lambda i, t: ["invert", i.local_observations_csv, "--origin", "north pole"],
        ("--origin", "north pole"),
    ),
    Case(
        "origin-out-of-range",
        lambda i, t: ["invert", i.local_observations_csv, "--origin", "95,-100"],
        ("--origin", "out of range"),
    ),
    Case(
        "origin-missing-for-local-log",
        lambda i, t: ["invert", i.local_observations_csv],
        ("{local_observations_csv}", "x_m", "--origin"),
    ),
    Case("gas-unknown", lambda i, t: ["invert", i.observations_csv, "--gas", "xenon"], ("--gas", "xenon")),
    Case(
        "ppm-without-gas",
        _edited(lambda df: df.assign(concentration_ppm=2.0).drop(columns=["concentration_mg_m3"]), options=()),
        (BAD, "concentration_ppm", "--gas"),
    ),
    # the file itself
    Case("file-missing", lambda i, t: ["invert", t / "none.csv"], ("{tmp}/none.csv", "not found")),
    Case("file-is-directory", lambda i, t: ["invert", t], ("{tmp}", "directory")),
    Case("file-empty", _raw(""), (BAD, "empty")),
    Case("file-binary", _raw(bytes(range(256)) * 8), (BAD, "binary")),
    Case(
        "parquet-not-parquet",
        _raw("time,x_m\n2026-06-01T10:00:00Z,1\n", "bad.parquet"),
        ("{tmp}/bad.parquet", "Parquet"),
    ),
    Case("header-only", _edited(lambda df: df.iloc[:0]), (BAD, "rows", "no observations")),
    Case("one-row", _edited(lambda df: df.iloc[:1]), (BAD, "rows", "at least 2")),
    Case("no-time-column", _edited(_drop("time")), (BAD, "time", "missing")),
    Case("no-concentration-column", _edited(_drop("concentration_mg_m3")), (BAD, "concentration", "missing")),
    Case("no-wind-columns", _edited(_drop("wind_speed_m_s", "wind_dir_deg")), (BAD, "wind", "missing")),
    Case("no-position-columns", _edited(_drop("x_m", "y_m", "z_m")), (BAD, "position")),
    Case("lat-without-lon", _edited(_drop("lon"), local=False), (BAD, "lon", "missing")),
    Case("time-unparseable", _edited(_set("time", "half past ten", 3)), (BAD, "time", "half past ten", "row 5")),
    Case(
        "time-backwards",
        _edited(lambda df: pd.concat([df.iloc[5:6], df.iloc[:5], df.iloc[6:]])),
        (BAD, "time", "out of time order"),
    ),
    Case("position-nan", _edited(_set("x_m", float("nan"), 4)), (BAD, "x_m", "row 6")),
    Case("latitude-95", _edited(_set("lat", 95.0, 2), local=False), (BAD, "lat", "95")),
    Case("longitude-200", _edited(_set("lon", 200.0), local=False), (BAD, "lon", "200")),
    Case("height-below-ground", _edited(_set("z_m", -3.0, 1)), (BAD, "z_m", "below ground")),
    Case(
        "concentration-nan",
        _edited(_set("concentration_mg_m3", float("nan"), 7)),
        (BAD, "concentration_mg_m3", "row 9"),
    ),
    Case(
        "concentration-text",
        _edited(_set("concentration_mg_m3", "high", 7)),
        (BAD, "concentration_mg_m3", "not numeric"),
    ),
    Case(
        "concentration-negative",
        _edited(lambda df: df.assign(concentration_mg_m3=-df["concentration_mg_m3"])),
        (BAD, "concentration_mg_m3", "negative"),
    ),
    Case(
        "concentration-unknown-unit",
        _edited(lambda df: df.rename(columns={"concentration_mg_m3": "concentration_ppb"})),
        (BAD, "concentration_ppb", "unknown concentration unit"),
    ),
    Case("both-concentration-units", _edited(lambda df: df.assign(concentration_ppm=2.0)), (BAD, "concentration")),
    Case(
        "temperature-negative",
        _edited(
            lambda df: df.assign(concentration_ppm=2.0, temperature_k=-5.0).drop(columns=["concentration_mg_m3"]),
            options=("--gas", "ch4"),
        ),
        (BAD, "temperature_k", "-5"),
    ),
    Case(
        "duplicate-column",
        lambda i, t: ["invert", _duplicate_column(i, t), "--origin", "40,-100"],
        (BAD, "concentration_mg_m3", "more than once"),
    ),
    Case("wind-500-m-s", _edited(_set("wind_speed_m_s", 500.0, 3)), (BAD, "wind_speed_m_s", "500")),
    Case("wind-negative", _edited(_set("wind_speed_m_s", -3.0, 3)), (BAD, "wind_speed_m_s", "-3")),
    Case("wind-direction-nan", _edited(_set("wind_dir_deg", float("nan"), 3)), (BAD, "wind_dir_deg", "row 5")),
    Case("wind-direction-400", _edited(_set("wind_dir_deg", 400.0, 3)), (BAD, "wind_dir_deg", "400")),
    Case("stability-unknown", _edited(_set("stability", "Z", 2)), (BAD, "stability", "'Z'")),
    Case("sigma-theta-above-90", _edited(_set("sigma_theta_deg", 120.0)), (BAD, "sigma_theta_deg")),
    Case("beam-endpoints-partial", _edited(_set("x0_m", 0.0)), (BAD, "y0_m", "beam endpoints")),
]


def _duplicate_column(inputs, tmp):
    """The valid log with its concentration column repeated (pandas would read the second as '….1')."""
    lines = inputs.local_observations_csv.read_text().splitlines()
    text = "\n".join(f"{line},{line.split(',')[4]}" for line in lines) + "\n"
    return write_text(tmp, "bad.csv", text)


@pytest.mark.parametrize("case", CASES, ids=ids(CASES))
def test_invert_input_refused(run_cli, inputs, tmp_path, case):
    print(case.id, "->", check_rejected(run_cli, case, inputs, tmp_path))
