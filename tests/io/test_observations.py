"""The documented observation layout: conversions checked analytically, one test per rejection."""

import numpy as np
import pandas as pd
import pytest

from plumetrace.errors import InvalidFileError, InvalidInputError, MissingFileError
from plumetrace.io.observations import ppm_to_mg_m3, read_observations, validate_observations

ORIGIN = (40.0, -100.0)


def _table(**over):
    df = pd.DataFrame(
        {
            "time": ["2026-06-01T10:00:00Z", "2026-06-01T10:00:01Z", "2026-06-01T10:00:02Z"],
            "x_m": [10.0, 20.0, 30.0],
            "y_m": [0.0, 1.0, 2.0],
            "z_m": [2.0, 2.0, 2.0],
            "concentration_mg_m3": [1.3, 1.4, 1.3],
            "wind_speed_m_s": [4.0, 4.0, 4.0],
            "wind_dir_deg": [270.0] * 3,
        }
    )
    for k, v in over.items():
        if v is None:
            df = df.drop(columns=k)
        else:
            df[k] = v
    return df


def test_ppm_to_mg_m3_ideal_gas():
    # 1 ppm SO2 at 20 degC, 1013.25 hPa: M p / (R T) = 64.064 * 101325 / (8.314462618 * 293.15) / 1000
    assert ppm_to_mg_m3(1.0, molar_mass_g_mol=64.064) == pytest.approx(2.6632, rel=1e-4)


def test_uv_wind_becomes_from_direction_and_speed():
    df = _table(wind_speed_m_s=None, wind_dir_deg=None, wind_u_m_s=[3.0, 0.0, -3.0], wind_v_m_s=[0.0, 4.0, -4.0])
    obs = validate_observations(df, origin=ORIGIN)
    # blowing towards east = from 270; towards north = from 180; towards south-west = from 36.87 (NE)
    np.testing.assert_allclose(obs.wind_dir_deg, [270.0, 180.0, 36.8699], atol=1e-3)
    np.testing.assert_allclose(obs.wind_speed_m_s, [3.0, 4.0, 5.0])


def test_lat_lon_positions_are_projected_around_the_origin():
    # 0.001 deg north at 40 N is 111.03 m (WGS84 meridian arc)
    df = _table(x_m=None, y_m=None, z_m=None, lat=[40.0, 40.001, 40.0], lon=[-100.0, -100.0, -99.999], alt_m=[1, 2, 3])
    obs = validate_observations(df, origin=ORIGIN)
    assert obs.y_m[1] == pytest.approx(111.03, abs=0.05)
    assert obs.x_m[2] == pytest.approx(85.39, abs=0.05)


def test_ppm_with_gas_and_beams(tmp_path):
    df = _table(
        concentration_mg_m3=None,
        concentration_ppm=[2.0, 2.1, 2.0],
        x0_m=[0, 0, 0],
        y0_m=[0, 0, 0],
        z0_m=[1, 1, 1],
        x1_m=[100, 100, 100],
        y1_m=[0, 0, 0],
        z1_m=[1, 1, 1],
    )
    path = tmp_path / "obs.csv"
    df.to_csv(path, index=False)
    obs = read_observations(path, origin=ORIGIN, gas="ch4")
    assert (obs.kind == "beam").all() and obs.x_m[0] == 50.0
    assert obs.concentration_mg_m3[0] == pytest.approx(2.0 * 16.043 * 101325 / (8.314462618 * 293.15) / 1000)


def test_parquet_is_read(tmp_path):
    path = tmp_path / "obs.parquet"
    _table().to_parquet(path)
    assert len(read_observations(path, origin=ORIGIN)) == 3


@pytest.mark.parametrize(
    "over,field",
    [
        (dict(wind_speed_m_s=None, wind_dir_deg=None), "wind"),
        (dict(concentration_mg_m3=None, concentration_ug_m3=[1, 2, 3]), "concentration_ug_m3"),
        (dict(time=["2026-06-01T10:00:02Z", "2026-06-01T10:00:01Z", "2026-06-01T10:00:03Z"]), "time"),
        (dict(x_m=[1.0, np.nan, 3.0]), "x_m"),
        (
            dict(x0_m=[0, 0, 0], y0_m=[0, 0, 0], z0_m=[1, 1, 1], x1_m=[0, 0, 0], y1_m=[0, 0, 0], z1_m=[1, 1, 1]),
            "zero length",
        ),
        (dict(concentration_mg_m3=None, concentration_ppm=[1, 2, 3]), "gas_name"),
        (dict(stability=["D", "Q", "D"]), "stability"),
        (dict(wind_speed_m_s=[4.0, np.nan, 4.0]), "wind_speed_m_s"),
    ],
)
def test_bad_tables_are_rejected(over, field):
    with pytest.raises(InvalidFileError, match=field.replace("-", r"\-")):
        validate_observations(_table(**over), origin=ORIGIN)


def test_local_coordinates_need_an_origin():
    with pytest.raises(InvalidFileError, match="origin"):
        validate_observations(_table())


def test_unknown_gas_and_missing_file(tmp_path):
    with pytest.raises(InvalidInputError, match="gas"):
        validate_observations(_table(), origin=ORIGIN, gas="unobtainium")
    with pytest.raises(MissingFileError):
        read_observations(tmp_path / "none.csv")


def test_small_negative_concentrations_within_noise_are_kept_large_ones_refused():
    rng = np.random.default_rng(0)
    n = 200
    conc = 0.02 * rng.standard_normal(n)  # an H2S log around the instrument zero
    times = pd.date_range("2026-06-01T10:00:00Z", periods=n, freq="s").strftime("%Y-%m-%dT%H:%M:%SZ")
    base = dict(time=list(times), x_m=np.linspace(0, 100, n), y_m=0.0, z_m=2.0, wind_speed_m_s=4.0, wind_dir_deg=270.0)
    obs = validate_observations(pd.DataFrame({**base, "concentration_mg_m3": conc}), origin=ORIGIN)
    assert (obs.concentration_mg_m3 < 0).any()
    conc[50] = -1.0  # 50 sigma below zero: a sign or unit error
    with pytest.raises(InvalidFileError, match="concentration_mg_m3: negative concentration -1 mg/m³ at row 52"):
        validate_observations(pd.DataFrame({**base, "concentration_mg_m3": conc}), origin=ORIGIN)


def test_repeated_column_is_refused(tmp_path):
    path = tmp_path / "obs.csv"
    _table().to_csv(path, index=False)
    lines = path.read_text().splitlines()
    path.write_text("\n".join(f"{line},{line.split(',')[1]}" for line in lines) + "\n")
    with pytest.raises(InvalidFileError, match="obs.csv: x_m: column appears more than once"):
        read_observations(path, origin=ORIGIN)


@pytest.mark.parametrize(
    "over, field",
    [
        (dict(x_m=None, y_m=None, lat=[40.0, 91.0, 40.0], lon=-100.0), "lat"),
        (dict(x_m=None, y_m=None, lat=40.0, lon=[-100.0, -100.0, 181.0]), "lon"),
        (dict(wind_speed_m_s=[4.0, 500.0, 4.0]), "wind_speed_m_s"),
        (dict(wind_dir_deg=[270.0, 361.0, 270.0]), "wind_dir_deg"),
        (dict(x_m=[1.0, 1e300, 3.0]), "x_m"),
        (dict(concentration_mg_m3=None, concentration_ppm=2.0, temperature_k=[293.0, 0.0, 293.0]), "temperature_k"),
    ],
)
def test_impossible_values_are_refused_naming_the_column(over, field):
    with pytest.raises(InvalidFileError, match=f"<table>: [a-z_/]*{field}"):
        validate_observations(_table(**over), origin=ORIGIN, gas="ch4")


def test_storm_wind_warns():
    from plumetrace.errors import InputWarning

    with pytest.warns(InputWarning, match="wind_speed_m_s: wind speed 45 m/s"):
        validate_observations(_table(wind_speed_m_s=[4.0, 45.0, 4.0]), origin=ORIGIN)
