"""Hand-made detections, overpasses and product folders with known answers (local metres around an origin)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
from shapely.geometry import box, mapping

ORIGIN_LAT, ORIGIN_LON = 31.9, -102.3
PLUMES_HEADER = (
    "plume_id", "gas", "sensor", "time", "source_lat", "source_lon", "source_sigma_m", "emission_rate_kg_h",
    "emission_rate_total_p16_kg_h", "emission_rate_total_p84_kg_h", "peak_significance_sigma", "near_detection_limit",
    "pixel_size_m",
)  # fmt: skip


def lonlat(east_m: float, north_m: float) -> tuple[float, float]:
    from plumetrace.georef import local_to_lonlat

    lon, lat = local_to_lonlat([east_m], [north_m], origin_lon_deg=ORIGIN_LON, origin_lat_deg=ORIGIN_LAT)
    return float(lon[0]), float(lat[0])


def square(east_m: float, north_m: float, half_m: float):
    """A lon/lat box of half-width ``half_m`` centred on a local position."""
    w, s = lonlat(east_m - half_m, north_m - half_m)
    e, n = lonlat(east_m + half_m, north_m + half_m)
    return box(w, s, e, n)


def detection(
    overpass: str,
    east_m: float,
    north_m: float,
    *,
    sigma_m: float = 50.0,
    sigma_north_m: float | None = None,
    rate: float = 1000.0,
    rel: float = 0.3,
    sensor: str = "emit",
    kind: str = "imaging",
    gas: str = "ch4",
    time: str = "2026-06-01T18:00:00Z",
    significance: float = 12.0,
    near: bool = False,
    pixel_m: float = 60.0,
    n: int = 1,
) -> dict:
    lon, lat = lonlat(east_m, north_m)
    return {
        "detection_id": f"{overpass}/plume-{n}",
        "overpass_id": overpass,
        "product_dir": f"/data/{overpass}",
        "kind": kind,
        "sensor": sensor,
        "gas": gas,
        "time": pd.Timestamp(time),
        "lat": lat,
        "lon": lon,
        "sigma_east_m": sigma_m,
        "sigma_north_m": sigma_m if sigma_north_m is None else sigma_north_m,
        "pixel_size_m": pixel_m,
        "rate_kg_h": rate,
        "rate_p16_kg_h": rate * math.exp(-rel),
        "rate_p84_kg_h": rate * math.exp(rel),
        "significance_sigma": significance,
        "near_detection_limit": near,
        "stac_item": "",
    }


def overpass(
    overpass_id: str,
    footprint=None,
    *,
    limit: float = 100.0,
    time: str = "2026-06-01T18:00:00Z",
    sensor: str = "emit",
    gas: str = "ch4",
    kind: str = "imaging",
    n_detections: int = 0,
) -> dict:
    return {
        "overpass_id": overpass_id,
        "product_dir": f"/data/{overpass_id}",
        "kind": kind,
        "sensor": sensor,
        "gas": gas,
        "time": pd.Timestamp(time),
        "footprint": footprint,
        "detection_limit_kg_h": limit,
        "upper_limit_kg_h": math.nan,
        "pixel_size_m": 60.0,
        "n_detections": n_detections,
        "stac_collection": "",
    }


def tables(detections: list[dict], overpasses: list[dict]) -> tuple[pd.DataFrame, pd.DataFrame]:
    det = pd.DataFrame(detections)
    det["time"] = pd.to_datetime(det["time"], utc=True)
    ovp = pd.DataFrame(overpasses)
    ovp["time"] = pd.to_datetime(ovp["time"], utc=True)
    return det, ovp


# --- product folders ---------------------------------------------------------------------------------------------


def plumes_row(plume_id: int, east_m: float, north_m: float, **kw) -> dict:
    lon, lat = lonlat(east_m, north_m)
    rate = kw.get("rate", 1000.0)
    return {
        "plume_id": plume_id,
        "gas": kw.get("gas", "ch4"),
        "sensor": kw.get("sensor", "emit"),
        "time": kw.get("time", "2026-06-01T18:00:00Z"),
        "source_lat": lat,
        "source_lon": lon,
        "source_sigma_m": kw.get("sigma_m", 50.0),
        "emission_rate_kg_h": rate,
        "emission_rate_total_p16_kg_h": rate * 0.75,
        "emission_rate_total_p84_kg_h": rate * 1.35,
        "peak_significance_sigma": kw.get("significance", 12.0),
        "near_detection_limit": kw.get("near", False),
        "pixel_size_m": kw.get("pixel_m", 60.0),
    }


def write_plumes_product(
    folder: Path,
    rows: list[dict],
    *,
    scene_id: str | None = None,
    time: str = "2026-06-01T18:00:00Z",
    sensor: str = "emit",
    gas: str = "ch4",
    footprint_half_m: float | None = 5000.0,
    footprint_centre_m: tuple[float, float] = (0.0, 0.0),
    limit: float | None = 100.0,
) -> Path:
    """A `plumetrace plumes` folder: plumes.csv, footprint.geojson (unless ``footprint_half_m`` is None), items."""
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(rows, columns=list(PLUMES_HEADER)).to_csv(folder / "plumes.csv", index=False)
    (folder / "items").mkdir(exist_ok=True)
    for row in rows:
        (folder / "items" / f"plume-{int(row['plume_id']):03d}.json").write_text("{}")
    (folder / "collection.json").write_text("{}")
    if footprint_half_m is not None:
        feature = {
            "type": "Feature",
            "geometry": mapping(square(*footprint_centre_m, footprint_half_m)),
            "properties": {
                "scene_id": scene_id or folder.name,
                "sensor": sensor,
                "gas": gas,
                "time": time,
                "pixel_size_m": 60.0,
                "median_sigma_ppm_m": 250.0,
                "wind_speed_m_s": 3.0,
                "detection_limit_kg_h": limit,
                "n_plumes": len(rows),
                "valid_fraction": 1.0,
            },
        }
        (folder / "footprint.geojson").write_text(json.dumps(feature))
    (folder / ".plumetrace").write_text("{}")
    return folder


def write_invert_product(
    folder: Path,
    east_m: float,
    north_m: float,
    *,
    detected: bool = True,
    rate_g_s: float = 250.0,
    time: str | None = "2026-06-03T10:00:00Z",
    name: str = "drone",
    sd_m: tuple[float, float] = (12.0, 2.0),
    significance: float = 40.0,
) -> Path:
    """A `plumetrace invert` folder: summary.json (and an item.json)."""
    folder.mkdir(parents=True, exist_ok=True)
    lon, lat = lonlat(east_m, north_m)
    summary = {
        "detected": detected,
        "emission_rate_g_s": rate_g_s,
        "emission_rate_kg_h": rate_g_s * 3.6,
        "emission_rate_68_g_s": [rate_g_s * 0.7, rate_g_s * 1.4],
        "emission_rate_95_g_s": [rate_g_s * 0.5, rate_g_s * 2.0],
        "emission_rate_upper_95_g_s": rate_g_s * 1.8,
        "source_sd_x_m": sd_m[0],
        "source_sd_y_m": sd_m[1],
        "grid_step_m": 2.0,
        "significance_sigma": significance,
        "source_lon": lon,
        "source_lat": lat,
        "gas": "ch4",
        "input": f"/logs/{name}.csv",
        "sensor": "drone",
    }
    if time is not None:
        summary["time"] = time
    (folder / "summary.json").write_text(json.dumps(summary))
    (folder / "item.json").write_text("{}")
    (folder / "collection.json").write_text("{}")
    (folder / ".plumetrace").write_text("{}")
    return folder
