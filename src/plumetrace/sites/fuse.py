"""Detections from many scenes, logs and dates fused into sites, with persistence, rates and confidence.

:func:`fuse_sites` takes the detections and overpasses tables of :func:`plumetrace.io.detections.read_products`
(plain DataFrames; any table with those columns will do) and returns a :class:`SiteResult`.

Per site:

* position: inverse-variance weighted mean of its detections' source positions (per axis, in a local azimuthal
  equidistant frame; each 1σ at least ``floor_pixels`` pixels), 1σ from the summed weights; ``position_sigma_m`` = √((σ_east² + σ_north²)/2);
* D: its detections (at most one per overpass); its typical rate: the median of their rates;
* M: the overpasses that could have seen it: each scene whose footprint polygon covers the site, whose gas is one
  of the site's gases and whose detection limit (rate at 90 % probability of detection) is at or below the typical
  rate; an overpass with a detection at the site always counts. Logs (in-situ) have no footprint: a log counts only
  for the site it detected. A scene without footprint.geojson counts only for its own detections;
* Q̄, P = D/M, P·Q̄ with 68 % intervals (:mod:`plumetrace.sites.rates`); confidence
  (:mod:`plumetrace.sites.confidence`).

Sites are numbered ``site-001``, ... by persistence-weighted rate, largest first.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from plumetrace.sites.associate import associate, effective_sigma
from plumetrace.sites.confidence import site_confidence
from plumetrace.sites.options import SiteOptions
from plumetrace.sites.rates import log_sigma, site_rates

__all__ = ["SITE_COLUMNS", "TIMESERIES_COLUMNS", "SiteResult", "fuse_sites"]

SITE_COLUMNS = (
    "site_id", "lat", "lon", "position_sigma_m", "position_sigma_east_m", "position_sigma_north_m", "gases",
    "identification_confidence", "n_detections", "n_overpasses", "persistence", "persistence_p16", "persistence_p84", "mean_rate_kg_h",
    "mean_rate_p16_kg_h", "mean_rate_p84_kg_h", "pw_rate_kg_h", "pw_rate_p16_kg_h", "pw_rate_p84_kg_h",
    "typical_rate_kg_h", "first_seen", "last_seen", "sensors", "kinds", "max_significance_sigma",
    "near_limit_fraction", "confidence", "confidence_reasons",
)  # fmt: skip
TIMESERIES_COLUMNS = (
    "time", "overpass_id", "kind", "sensor", "gas", "detected", "detection_id", "rate_kg_h", "rate_p16_kg_h",
    "rate_p84_kg_h", "detection_limit_kg_h", "counted", "product_dir",
)  # fmt: skip


def _best_identification(values: np.ndarray) -> float:
    """The highest identification confidence among a site's detections (NaN: none is a thermal-infrared one)."""
    values = values[np.isfinite(values)]
    return float(values.max()) if values.size else float("nan")


@dataclass
class SiteResult:
    """Sites and how each detection and overpass was used.

    Attributes
    ----------
    sites : DataFrame
        One row per site, columns :data:`SITE_COLUMNS`, ordered by ``pw_rate_kg_h`` (largest first).
    detections : DataFrame
        The input detections with a ``site_id`` column.
    timeseries : dict
        ``site_id`` → DataFrame (columns :data:`TIMESERIES_COLUMNS`): every overpass whose footprint covered the
        site (``counted``: whether it is in M) and every detection, in time order.
    """

    sites: pd.DataFrame
    detections: pd.DataFrame
    timeseries: dict[str, pd.DataFrame] = field(default_factory=dict)


def _iso(value: pd.Timestamp) -> str:
    return "" if pd.isna(value) else value.strftime("%Y-%m-%dT%H:%M:%SZ")


def _coverage(overpasses: pd.DataFrame, lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """covered[site, overpass]: the overpass footprint covers the site position (boundary included)."""
    import shapely

    covered = np.zeros((lon.size, len(overpasses)), dtype=bool)
    for j, geom in enumerate(overpasses["footprint"].to_numpy()):
        if geom is not None:
            shapely.prepare(geom)
            covered[:, j] = shapely.intersects_xy(geom, lon, lat)
    return covered


def fuse_sites(
    detections: pd.DataFrame, overpasses: pd.DataFrame, *, options: SiteOptions = SiteOptions()
) -> SiteResult:
    """Fuse detections into sites (module docstring).

    Parameters
    ----------
    detections : DataFrame
        Columns ``detection_id, overpass_id, kind, sensor, gas, time, lat, lon, sigma_east_m, sigma_north_m,
        pixel_size_m, rate_kg_h, rate_p16_kg_h, rate_p84_kg_h, significance_sigma, near_detection_limit``
        (degrees, m, kg/h, σ).
    overpasses : DataFrame
        Columns ``overpass_id, kind, sensor, gas, time, footprint`` (shapely lon/lat or None),
        ``detection_limit_kg_h`` (NaN: unknown, counted), ``product_dir``.
    options : SiteOptions

    Returns
    -------
    SiteResult
    """
    from plumetrace.georef import local_to_lonlat, lonlat_to_local

    det = detections.reset_index(drop=True).copy()
    det["site_id"] = ""
    if det.empty:
        return SiteResult(pd.DataFrame(columns=list(SITE_COLUMNS)), det, {})
    origin_lat, origin_lon = float(det["lat"].median()), float(det["lon"].median())
    east, north = lonlat_to_local(det["lon"], det["lat"], origin_lon_deg=origin_lon, origin_lat_deg=origin_lat)
    overpass_codes = pd.factorize(det["overpass_id"])[0]
    labels = associate(
        east,
        north,
        det["sigma_east_m"].to_numpy(),
        det["sigma_north_m"].to_numpy(),
        det["pixel_size_m"].to_numpy(),
        overpass_codes,
        options=options,
    )
    n_sites = int(labels.max()) + 1
    pixel = det["pixel_size_m"].to_numpy(float)
    sig_e = effective_sigma(det["sigma_east_m"].to_numpy(float), pixel, options=options)
    sig_n = effective_sigma(det["sigma_north_m"].to_numpy(float), pixel, options=options)
    w_e = np.bincount(labels, 1 / sig_e**2, n_sites)
    w_n = np.bincount(labels, 1 / sig_n**2, n_sites)
    site_e = np.bincount(labels, east / sig_e**2, n_sites) / w_e
    site_n = np.bincount(labels, north / sig_n**2, n_sites) / w_n
    site_lon, site_lat = local_to_lonlat(site_e, site_n, origin_lon_deg=origin_lon, origin_lat_deg=origin_lat)
    covered = _coverage(overpasses, site_lon, site_lat)
    ovp_gas = overpasses["gas"].astype(str).str.lower().to_numpy()
    ovp_limit = overpasses["detection_limit_kg_h"].to_numpy(float)
    ovp_index = {oid: j for j, oid in enumerate(overpasses["overpass_id"])}
    log_s = log_sigma(det["rate_p16_kg_h"], det["rate_p84_kg_h"])

    rate_all = det["rate_kg_h"].to_numpy(float)
    p16_all, p84_all = det["rate_p16_kg_h"].to_numpy(float), det["rate_p84_kg_h"].to_numpy(float)
    gas_all = det["gas"].astype(str).str.lower().to_numpy(object)
    sensor_all, kind_all = det["sensor"].astype(str).to_numpy(object), det["kind"].astype(str).to_numpy(object)
    overpass_all = det["overpass_id"].to_numpy(object)
    near_all = det["near_detection_limit"].to_numpy(bool)
    sig_all = det["significance_sigma"].to_numpy(float)
    # thermal-infrared plumes: the posterior probability of their gas (absent or NaN for the others)
    ident_all = pd.to_numeric(det.get("identification_confidence", pd.Series(np.nan, index=det.index)), errors="coerce")
    ident_all = ident_all.to_numpy(float)
    time_all = det["time"]
    order_by_site = np.argsort(labels, kind="stable")
    splits = np.split(order_by_site, np.cumsum(np.bincount(labels, minlength=n_sites))[:-1])

    rows, members_of, counted_of = [], [], []
    for k, members in enumerate(splits):
        rates = rate_all[members]
        typical = float(np.median(rates))
        gases = sorted(set(gas_all[members]))
        looked = covered[k] & np.isin(ovp_gas, gases)  # scenes of the site's gases over it
        counted = looked & ~(ovp_limit > typical)  # NaN limit: counted
        own = [ovp_index[o] for o in overpass_all[members] if o in ovp_index]
        counted[own] = True
        m = max(int(counted.sum()), len(members))
        stats = site_rates(
            rates,
            p16_all[members],
            p84_all[members],
            m,
            n_draws=options.n_draws,
            rng=np.random.default_rng(options.seed),
        )
        sensors = sorted(set(sensor_all[members]))
        kinds = set(kind_all[members])
        near = float(near_all[members].mean())
        max_sig = float(sig_all[members].max())
        score, reasons = site_confidence(
            n_detections=len(members),
            n_sensors=len(sensors),
            max_significance_sigma=max_sig,
            persistence=stats.persistence,
            near_limit_fraction=near,
            rates_kg_h=rates,
            log_sigmas=log_s[members],
            kinds=kind_all[members],
        )
        sigma_e, sigma_n = 1 / math.sqrt(w_e[k]), 1 / math.sqrt(w_n[k])
        times = time_all.iloc[members].dropna()
        rows.append(
            {
                "lat": float(site_lat[k]),
                "lon": float(site_lon[k]),
                "position_sigma_m": math.sqrt((sigma_e**2 + sigma_n**2) / 2),
                "position_sigma_east_m": sigma_e,
                "position_sigma_north_m": sigma_n,
                "gases": ";".join(gases),
                "identification_confidence": _best_identification(ident_all[members]),
                "n_detections": len(members),
                "n_overpasses": m,
                **{name: getattr(stats, name) for name in stats.__dataclass_fields__},
                "typical_rate_kg_h": typical,
                "first_seen": _iso(times.min()) if len(times) else "",
                "last_seen": _iso(times.max()) if len(times) else "",
                "sensors": ";".join(sensors),
                "kinds": ";".join(k for k in ("imaging", "in-situ") if k in kinds),
                "max_significance_sigma": max_sig,
                "near_limit_fraction": near,
                "confidence": score,
                "confidence_reasons": json.dumps(reasons, sort_keys=False),
            }
        )
        members_of.append(members)
        counted_of.append((looked, counted))

    order = sorted(range(n_sites), key=lambda k: (-rows[k]["pw_rate_kg_h"], -rows[k]["confidence"], rows[k]["lat"]))
    site_ids = np.empty(n_sites, dtype=object)
    for rank, k in enumerate(order, start=1):
        site_ids[k] = f"site-{rank:03d}"
    det["site_id"] = site_ids[labels]
    table = pd.DataFrame([{"site_id": site_ids[k], **rows[k]} for k in order], columns=list(SITE_COLUMNS))
    return SiteResult(table, det, _timeseries(det, overpasses, site_ids, counted_of))


def _timeseries(
    det: pd.DataFrame,
    overpasses: pd.DataFrame,
    site_ids: np.ndarray,
    looked_counted: list[tuple[np.ndarray, np.ndarray]],
) -> dict[str, pd.DataFrame]:
    """Per site: one row per detection and one per covering overpass without a detection there, in time order."""
    limits = overpasses.set_index("overpass_id")["detection_limit_kg_h"]
    detected = det.assign(
        detected=True, counted=True, detection_limit_kg_h=det["overpass_id"].map(limits).astype(float)
    )
    own = set(zip(det["site_id"], det["overpass_id"]))
    ovp_ids = overpasses["overpass_id"].to_numpy(object)
    miss_site, miss_ovp, miss_counted = [], [], []
    for k, (looked, counted) in enumerate(looked_counted):
        for j in np.flatnonzero(looked | counted):
            if (site_ids[k], ovp_ids[j]) not in own:
                miss_site.append(site_ids[k])
                miss_ovp.append(j)
                miss_counted.append(bool(counted[j]))
    misses = overpasses.iloc[miss_ovp].assign(
        site_id=miss_site, counted=miss_counted, detected=False, detection_id="",
        rate_kg_h=math.nan, rate_p16_kg_h=math.nan, rate_p84_kg_h=math.nan,
    )  # fmt: skip
    columns = ["site_id", *TIMESERIES_COLUMNS]
    table = pd.concat([part.reindex(columns=columns) for part in (detected, misses)], ignore_index=True)
    table["time"] = pd.to_datetime(table["time"], utc=True)
    table["detected"] = table["detected"].astype(bool)
    table["counted"] = table["counted"].astype(bool)
    table = table.sort_values(["site_id", "time", "overpass_id"], na_position="last", kind="stable")
    return {
        str(site_id): group.drop(columns="site_id").reset_index(drop=True)
        for site_id, group in table.groupby("site_id", sort=True)
    }
