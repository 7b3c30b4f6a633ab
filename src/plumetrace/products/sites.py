"""Write the sites of many plumes and invert products: tables, maps, time series and a STAC Collection.

:func:`write_sites` is the whole step (read → fuse → write), used by ``plumetrace sites`` and by ``plumetrace run``
for its ``sites/`` folder. The folder's layout and fields are the data contract of docs/sites.md:

``sites.csv``, ``sites.geojson`` (a Point per site, the same properties; ``confidence_reasons`` is a JSON object
there and a JSON string in the CSV), ``sites.kml``, ``detections.csv`` (every detection with its ``site_id``, every
counted non-detection of a site, and every log without a detection), ``timeseries/site-NNN.csv`` + ``.png``,
``collection.json`` + ``items/site-NNN.json`` (each site's Item links, by relative hrefs, to the plume and invert
STAC Items and product Collections behind it: ``derived_from`` for its detections, ``related`` for the overpasses
that saw nothing there).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from shapely.geometry import Point

from plumetrace.io.detections import find_products, read_products
from plumetrace.io.jsonable import to_jsonable
from plumetrace.io.stac import UNKNOWN_START, relative_href, write_collection
from plumetrace.io.vector import KmlStyle, write_csv, write_geojson, write_kml
from plumetrace.sites import SITE_COLUMNS, TIMESERIES_COLUMNS, SiteOptions, SiteResult, fuse_sites

__all__ = ["PRODUCT_FILES", "SitesSummary", "write_sites", "write_site_products", "write_timeseries_plot"]

PRODUCT_FILES = (
    "sites.csv",
    "sites.geojson",
    "sites.kml",
    "detections.csv",
    "timeseries/",
    "items/",
    "collection.json",
)

#: KML icon colour by confidence class (``high`` ≥ 0.7, ``medium`` ≥ 0.4, else ``low``).
KML_STYLES = {
    "high": KmlStyle(line="#d62728", icon="placemark_circle.png", icon_colour="#d62728", icon_scale=1.3),
    "medium": KmlStyle(line="#ff7f0e", icon="placemark_circle.png", icon_colour="#ff7f0e", icon_scale=1.1),
    "low": KmlStyle(line="#bcbd22", icon="placemark_circle.png", icon_colour="#bcbd22", icon_scale=0.9),
}

DETECTIONS_CSV_COLUMNS = (
    "detection_id", "site_id", "detected", "overpass_id", "kind", "sensor", "gas", "identification_confidence", "time",
    "lat", "lon",
    "sigma_east_m", "sigma_north_m", "rate_kg_h", "rate_p16_kg_h", "rate_p84_kg_h", "significance_sigma",
    "near_detection_limit", "detection_limit_kg_h", "upper_limit_kg_h", "product_dir",
)  # fmt: skip


@dataclass(frozen=True)
class SitesSummary:
    """What :func:`write_sites` found and wrote.

    Attributes
    ----------
    n_sites, n_detections, n_overpasses, n_products : int
        Sites; detections read (imaging plume sources and in-situ sources); overpasses (scenes and logs); product
        folders read.
    n_without_footprint : int
        Plumes products read without ``footprint.geojson`` (their non-detections are unknown).
    sites : DataFrame
        The site table (columns of ``sites.csv``).
    files : list of Path
        Every file written (under the folder given).
    """

    n_sites: int
    n_detections: int
    n_overpasses: int
    n_products: int
    n_without_footprint: int
    sites: pd.DataFrame
    files: list[Path] = field(default_factory=list)


def _confidence_class(score: float) -> str:
    return "high" if score >= 0.7 else "medium" if score >= 0.4 else "low"


def _site_properties(row: pd.Series) -> dict[str, Any]:
    props = {key: row[key] for key in SITE_COLUMNS}
    props["confidence_reasons"] = json.loads(row["confidence_reasons"])
    return to_jsonable(props)


def _relative_dir(path: Any, start: Path) -> str:
    """``path`` relative to ``start`` (POSIX separators); empty for no path."""
    if not isinstance(path, str) or not path:
        return ""
    return Path(os.path.relpath(os.path.abspath(path), start)).as_posix()


def _iso_column(values: pd.Series) -> pd.Series:
    return values.map(lambda t: "" if pd.isna(t) else t.strftime("%Y-%m-%dT%H:%M:%SZ"))


def _detections_table(result: SiteResult, overpasses: pd.DataFrame) -> pd.DataFrame:
    limits = dict(zip(overpasses["overpass_id"], overpasses["detection_limit_kg_h"]))
    det = result.detections.assign(
        detected=True,
        detection_limit_kg_h=result.detections["overpass_id"].map(limits).astype(float),
        upper_limit_kg_h=math.nan,
    )
    parts = [det]
    for site_id, series in result.timeseries.items():
        misses = series[~series["detected"] & series["counted"]]
        if len(misses):
            parts.append(misses.assign(site_id=site_id, upper_limit_kg_h=math.nan))
    quiet_logs = overpasses[(overpasses["kind"] == "in-situ") & (overpasses["n_detections"] == 0)]
    if len(quiet_logs):
        parts.append(quiet_logs.drop(columns=["footprint"]).assign(site_id="", detected=False, detection_id=""))
    table = pd.concat([p.reindex(columns=list(DETECTIONS_CSV_COLUMNS)) for p in parts], ignore_index=True)
    table["time"] = _iso_column(pd.to_datetime(table["time"], utc=True))
    return table


def write_timeseries_plot(path: str | os.PathLike, series: pd.DataFrame, site: pd.Series) -> Path:
    """PNG of one site's time series: detections with their 68 % rate interval, non-detections at their detection limit
    (log rate axis; a non-detection whose limit is unknown is not drawn).

    Parameters
    ----------
    path : path
        Destination ``.png``.
    series : DataFrame
        The site's time series (columns of ``timeseries/site-NNN.csv``).
    site : Series
        The site's row of ``sites.csv`` (for the title and the mean rate line).
    """
    from matplotlib.figure import Figure  # no pyplot: no global figure state, any backend

    fig = Figure(figsize=(8, 4), dpi=100)
    ax = fig.subplots()
    timed = series["time"].notna().all() and len(series)
    x = pd.to_datetime(series["time"], utc=True).dt.tz_localize(None) if timed else np.arange(len(series))
    det = series["detected"].to_numpy(bool)
    counted = series["counted"].to_numpy(bool)
    for sensor in sorted(set(series.loc[det, "sensor"].astype(str))):
        sel = det & (series["sensor"].astype(str) == sensor).to_numpy()
        rate = series.loc[sel, "rate_kg_h"].to_numpy(float)
        lo = rate - series.loc[sel, "rate_p16_kg_h"].to_numpy(float)
        hi = series.loc[sel, "rate_p84_kg_h"].to_numpy(float) - rate
        ax.errorbar(np.asarray(x)[sel], rate, yerr=[lo, hi], fmt="o", capsize=3, label=f"detected ({sensor})")
    for mask, style, label in (
        (~det & counted, {"color": "0.2", "mfc": "none"}, "not detected (detection limit)"),
        (~det & ~counted, {"color": "0.7", "mfc": "none"}, "not detected, limit above typical rate (not in M)"),
    ):
        limit = series["detection_limit_kg_h"].to_numpy(float)
        shown = mask & np.isfinite(limit) & (limit > 0)  # an unknown limit cannot be drawn
        if shown.any():
            ax.plot(np.asarray(x)[shown], limit[shown], "v", ms=8, ls="none", label=label, **style)
    ax.axhline(site["mean_rate_kg_h"], color="tab:red", lw=1, ls="--", label="mean detected rate Q̄")
    ax.axhspan(site["mean_rate_p16_kg_h"], site["mean_rate_p84_kg_h"], color="tab:red", alpha=0.08)
    ax.set_yscale("log")  # rates and detection limits span orders of magnitude
    ax.set_ylabel("emission rate (kg/h, log scale)")
    ax.set_xlabel("time (UTC)" if timed else "overpass")
    ax.set_title(
        f"{site['site_id']} ({site['lat']:.5f}, {site['lon']:.5f}): D={site['n_detections']}, "
        f"M={site['n_overpasses']}, P={site['persistence']:.2f}, P·Q̄={site['pw_rate_kg_h']:.0f} kg/h",
        fontsize=10,
    )
    ax.legend(fontsize=8, loc="best")
    ax.grid(alpha=0.3)
    fig.autofmt_xdate()
    fig.tight_layout()
    path = Path(path)
    fig.savefig(path)
    return path


def _stac_items(result: SiteResult, final_dir: Path) -> list[tuple[Any, str]]:
    import pystac

    items = []
    items_dir = final_dir / "items"
    for _, site in result.sites.iterrows():
        site_id = site["site_id"]
        series = result.timeseries[site_id]
        first, last = site["first_seen"], site["last_seen"]
        times = {"datetime": None, "start_datetime": None, "end_datetime": None}
        if first:
            start, end = pd.Timestamp(first).to_pydatetime(), pd.Timestamp(last).to_pydatetime()
            times = {"datetime": start, "start_datetime": None, "end_datetime": None}
            if end != start:
                times = {"datetime": None, "start_datetime": start, "end_datetime": end}
        properties = {f"plumetrace:{k}": v for k, v in _site_properties(site).items()}
        if not first:
            properties["datetime_unknown"] = True
            now = pd.Timestamp.now(tz="UTC").floor("s").to_pydatetime()
            times = {"datetime": None, "start_datetime": UNKNOWN_START, "end_datetime": now}
        item = pystac.Item(
            id=site_id,
            geometry={"type": "Point", "coordinates": [float(site["lon"]), float(site["lat"])]},
            bbox=[float(site["lon"]), float(site["lat"]), float(site["lon"]), float(site["lat"])],
            properties=to_jsonable(properties),
            **times,
        )
        for key, name, media, title in (
            ("timeseries", f"{site_id}.csv", "text/csv", "Time series of rates and non-detections"),
            ("plot", f"{site_id}.png", pystac.MediaType.PNG, "Time series plot"),
        ):
            item.add_asset(
                key, pystac.Asset(href=f"../timeseries/{name}", media_type=media, roles=["data"], title=title)
            )
        sources = result.detections[result.detections["site_id"] == site_id]
        for _, d in sources.iterrows():
            target = d["stac_item"] or str(Path(d["product_dir"]) / "collection.json")
            item.add_link(
                pystac.Link(
                    "derived_from",
                    relative_href(target, items_dir),
                    media_type="application/json",
                    title=f"{d['kind']} detection {d['detection_id']}",
                )
            )
        for _, o in series[~series["detected"] & series["counted"]].iterrows():
            item.add_link(
                pystac.Link(
                    "related",
                    relative_href(Path(o["product_dir"]) / "collection.json", items_dir),
                    media_type="application/json",
                    title=f"non-detection {o['overpass_id']}",
                )
            )
        items.append((item, f"items/{site_id}.json"))
    return items


def write_site_products(
    out_dir: str | os.PathLike,
    result: SiteResult,
    overpasses: pd.DataFrame,
    *,
    final_dir: str | os.PathLike | None = None,
    progress: bool | None = None,
) -> list[Path]:
    """Write the files of docs/sites.md for fused sites.

    Parameters
    ----------
    out_dir : path
        Existing folder to write into (a staging folder).
    result : SiteResult
        From :func:`plumetrace.sites.fuse_sites`.
    overpasses : DataFrame
        The overpasses table the sites were fused with.
    final_dir : path, optional
        Where ``out_dir`` will end up (STAC hrefs to the product folders are relative to it); default ``out_dir``.
    progress : bool, optional
        Show a progress bar while the per-site files are written (default: when stderr is a terminal).

    Returns
    -------
    list of Path
    """
    from plumetrace.progress import track

    out = Path(out_dir)
    final = Path(os.path.abspath(final_dir if final_dir is not None else out))
    sites = result.sites
    written = []
    table = sites.copy()
    if len(table):
        written.append(write_csv(out / "sites.csv", table.to_dict("records")))
    else:
        (out / "sites.csv").write_text(",".join(SITE_COLUMNS) + "\n", encoding="utf-8")
        written.append(out / "sites.csv")
    features = [
        (Point(float(s["lon"]), float(s["lat"])), {"name": s["site_id"], **_site_properties(s)})
        for _, s in sites.iterrows()
    ]
    written.append(write_geojson(out / "sites.geojson", features))
    kml_features = [
        (geom, {**props, "confidence_reasons": json.dumps(props["confidence_reasons"]),
                "confidence_class": _confidence_class(props["confidence"])})
        for geom, props in features
    ]  # fmt: skip
    written.append(
        write_kml(
            out / "sites.kml", kml_features, name="plumetrace sites", styles=KML_STYLES, style_by="confidence_class"
        )
    )
    detections = _detections_table(result, overpasses)
    # product folders relative to this folder: a run folder moved or copied stays whole
    detections["product_dir"] = detections["product_dir"].map(lambda d: _relative_dir(d, final))
    if len(detections):
        written.append(write_csv(out / "detections.csv", detections.to_dict("records")))
    else:
        (out / "detections.csv").write_text(",".join(DETECTIONS_CSV_COLUMNS) + "\n", encoding="utf-8")
        written.append(out / "detections.csv")
    (out / "timeseries").mkdir(exist_ok=True)
    for _, site in track(list(sites.iterrows()), "writing sites", disable=None if progress is None else not progress):
        series = result.timeseries[site["site_id"]]
        csv_rows = series.assign(
            time=_iso_column(series["time"]), product_dir=series["product_dir"].map(lambda d: _relative_dir(d, final))
        ).reindex(columns=list(TIMESERIES_COLUMNS))
        written.append(write_csv(out / "timeseries" / f"{site['site_id']}.csv", csv_rows.to_dict("records")))
        written.append(write_timeseries_plot(out / "timeseries" / f"{site['site_id']}.png", series, site))
    written.extend(
        write_collection(
            out,
            _stac_items(result, final),
            collection_id="plumetrace-sites",
            description=f"plumetrace sites: {len(sites)} site(s) fused from plume and in-situ detections",
            title="plumetrace sites",
        )
    )
    return written


def write_sites(
    product_dirs: Sequence[str | os.PathLike],
    out_dir: str | os.PathLike,
    *,
    options: SiteOptions = SiteOptions(),
    final_dir: str | os.PathLike | None = None,
    progress: bool | None = None,
) -> SitesSummary:
    """Read plumes / invert product folders (or run folders), fuse their detections into sites, write the products.

    Parameters
    ----------
    product_dirs : sequence of path
        ``plumetrace plumes`` folders, ``plumetrace invert`` folders, or run folders (their ``scenes/*/plumes`` and
        ``logs/*/invert``).
    out_dir : path
        Existing, empty folder to write into (a staging folder: the caller makes the result all-or-nothing).
    options : SiteOptions
    final_dir : path, optional
        Where ``out_dir`` will be moved to (for the relative STAC hrefs); default ``out_dir``.
    progress : bool, optional
        Progress bars (default: when stderr is a terminal).

    Returns
    -------
    SitesSummary

    Raises
    ------
    InvalidInputError
        No folder given, or one given twice.
    MissingFileError, InvalidFileError
        A folder that does not exist, is no product, or holds a malformed product.
    """
    products = find_products(product_dirs)
    detections, overpasses = read_products(products, progress=progress)
    result = fuse_sites(detections, overpasses, options=options)
    files = write_site_products(out_dir, result, overpasses, final_dir=final_dir, progress=progress)
    no_footprint = int(((overpasses["kind"] == "imaging") & overpasses["footprint"].isna()).sum())
    return SitesSummary(
        n_sites=len(result.sites),
        n_detections=len(detections),
        n_overpasses=len(overpasses),
        n_products=len(products),
        n_without_footprint=no_footprint,
        sites=result.sites,
        files=files,
    )
