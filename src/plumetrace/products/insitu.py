"""Write the products of an in-situ inversion: source GeoJSON, posterior map PNG, CSV/JSON summary, STAC Item and
its Collection (``collection.json``, relative links)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Point, mapping

from plumetrace.georef import local_to_lonlat
from plumetrace.insitu.inversion import InversionResult
from plumetrace.insitu.massbalance import CurtainFlux
from plumetrace.io.jsonable import to_jsonable
from plumetrace.io.stac import write_collection
from plumetrace.io.vector import write_geojson

__all__ = ["write_inversion_products"]


def write_inversion_products(
    out: Path,
    result: InversionResult,
    obs: pd.DataFrame,
    *,
    flux: CurtainFlux | None = None,
    title: str = "plumetrace invert",
) -> dict[str, Path]:
    """Write ``source.geojson``, ``posterior.png``, ``summary.json``, ``summary.csv``, ``item.json`` and
    ``collection.json`` into ``out``.

    Positions are converted from local metres to WGS84 with the origin stored in ``obs.attrs``.
    Returns the written paths by name.
    """
    out = Path(out)
    origin = (obs.attrs["origin_lat"], obs.attrs["origin_lon"])
    origin_lonlat = {"origin_lon_deg": origin[1], "origin_lat_deg": origin[0]}
    lon, lat = local_to_lonlat([result.x_m], [result.y_m], **origin_lonlat)
    summary = result.summary()
    summary.update(
        source_lon=float(lon[0]),
        source_lat=float(lat[0]),
        origin_lat=origin[0],
        origin_lon=origin[1],
        gas=obs.attrs.get("gas", ""),
        input=str(obs.attrs.get("source", "")),
        time=pd.to_datetime(obs["time"], utc=True).median().strftime("%Y-%m-%dT%H:%M:%SZ"),  # median sample time
        sensor=";".join(sorted(set(obs["sensor"].astype(str)))) if "sensor" in obs else "in-situ",
    )
    if flux is not None:
        summary.update(
            massbalance_flux_g_s=flux.flux_g_s,
            massbalance_flux_sd_g_s=flux.flux_sd_g_s,
            massbalance_flux_kg_h=flux.flux_kg_h,
            massbalance_legs=flux.n_legs,
        )
    summary = to_jsonable(summary)

    def to_geo(geom):
        return shapely.transform(geom, lambda xy: np.column_stack(local_to_lonlat(xy[:, 0], xy[:, 1], **origin_lonlat)))

    props = {
        k: summary[k] for k in ("detected", "emission_rate_g_s", "emission_rate_kg_h", "emission_rate_upper_95_g_s")
    }
    feats = [(Point(float(lon[0]), float(lat[0])), {"kind": "source_map_position", **props})]
    if not result.source_known:
        feats.append(
            (
                to_geo(result.credible_region),
                {"kind": "credible_region_95", "area_m2": summary["credible_region_area_m2"]},
            )
        )
    paths = {"geojson": write_geojson(out / "source.geojson", feats)}

    (out / "summary.json").write_text(json.dumps(summary, indent=1, allow_nan=False))
    paths["json"] = out / "summary.json"
    with (out / "summary.csv").open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["quantity", "value"])
        for k, v in summary.items():
            w.writerow([k, json.dumps(v) if isinstance(v, list) else v])
    paths["csv"] = out / "summary.csv"
    paths["png"] = _plot(out / "posterior.png", result, obs, title=title)
    paths["stac"], paths["collection"] = _stac_item(
        out / "item.json",
        result,
        obs,
        summary,
        [p.name for p in paths.values()],
        geometry=mapping(
            to_geo(result.credible_region if not result.source_known else Point(result.x_m, result.y_m).buffer(1.0))
        ),
    )
    return paths


def _plot(path: Path, result: InversionResult, obs: pd.DataFrame, *, title: str) -> Path:
    """Posterior map (east / north of the origin, m or km) with the track, the source, scale bar and north arrow."""
    from matplotlib.patches import FancyArrowPatch

    from plumetrace.io.mapplot import MapFrame, map_page, save_page

    span = float(np.ptp(np.concatenate([obs["x_m"].to_numpy(), obs["y_m"].to_numpy(), result.grid_x_m.ravel()])))
    k = 1000.0 if span > 5000.0 else 1.0  # plot units: km for large surveys, m otherwise
    unit = "km" if k > 1 else "m"
    q = (
        f"Q = {result.q_g_s:.3g} g/s (95 %: {result.q_95_g_s[0]:.3g}–{result.q_95_g_s[1]:.3g})"
        if result.detected
        else f"no detectable source; Q < {result.q_upper_95_g_s:.3g} g/s (95 %)"
    )
    fig, ax, cax = map_page(f"{title}\n{q}")
    if result.posterior.size > 1:
        im = ax.pcolormesh(
            result.grid_x_m / k, result.grid_y_m / k, result.posterior, shading="nearest", cmap="magma_r"
        )
        fig.colorbar(im, cax=cax, label="posterior probability per cell")
        for g in getattr(result.credible_region, "geoms", [result.credible_region]):
            x, y = g.exterior.xy
            ax.plot(np.asarray(x) / k, np.asarray(y) / k, "c-", lw=1.2, label="95 % credible region")
    else:
        cax.set_axis_off()
    c = obs["concentration_mg_m3"].to_numpy()
    sc = ax.scatter(obs["x_m"] / k, obs["y_m"] / k, c=c, s=6, cmap="viridis", label="observations")
    conc = fig.add_axes((0.34, 0.09, 0.25, 0.02))
    fig.colorbar(sc, cax=conc, orientation="horizontal", label="concentration (mg/m³)")
    ax.plot(result.x_m / k, result.y_m / k, "r*", ms=14, ls="none", label="most probable source")
    wind_from = np.deg2rad(obs["wind_dir_deg"].mean())
    handles, labels = ax.get_legend_handles_labels()
    unique = dict(zip(labels, handles))
    fig.legend(unique.values(), unique.keys(), loc="lower left", bbox_to_anchor=(0.76, 0.01), fontsize=8, frameon=False)
    fig.text(0.78, 0.165, f"wind from {np.rad2deg(wind_from) % 360:.0f}°", fontsize=8, va="center")
    fig.add_artist(  # in the margin right of the map, pointing downwind
        FancyArrowPatch(
            (0.92 + 0.025 * np.sin(wind_from), 0.165 + 0.03 * np.cos(wind_from)),
            (0.92 - 0.025 * np.sin(wind_from), 0.165 - 0.03 * np.cos(wind_from)),
            transform=fig.transFigure,
            arrowstyle="-|>",
            mutation_scale=12,
            color="black",
        )
    )
    frame = MapFrame(None, f"east of origin ({unit})", f"north of origin ({unit})", (k, k), 0.0, None)
    save_page(fig, ax, frame, path, cax=cax)
    return path


def _stac_item(
    path: Path, result: InversionResult, obs: pd.DataFrame, summary: dict, assets: list[str], *, geometry: dict
) -> list[Path]:
    import pystac
    from shapely.geometry import shape

    t = pd.to_datetime(obs["time"], utc=True)
    item = pystac.Item(
        id=f"insitu-{Path(str(obs.attrs.get('source', 'obs'))).stem}-{t.min():%Y%m%dT%H%M%S}",
        geometry=geometry,
        bbox=list(shape(geometry).bounds),
        datetime=None,
        start_datetime=t.min().to_pydatetime(),
        end_datetime=t.max().to_pydatetime(),
        properties={f"plumetrace:{k}": v for k, v in summary.items() if not isinstance(v, list)},
    )
    media = {
        ".geojson": "application/geo+json",
        ".png": pystac.MediaType.PNG,
        ".json": pystac.MediaType.JSON,
        ".csv": "text/csv",
    }
    for name in assets:
        item.add_asset(
            Path(name).stem + Path(name).suffix.replace(".", "_"),
            pystac.Asset(href=f"./{name}", media_type=media.get(Path(name).suffix), roles=["data"]),
        )
    return write_collection(
        path.parent,
        [(item, path.name)],
        collection_id=f"{item.id}-inversion",
        description="plumetrace invert: source position and emission rate from in-situ sensor logs",
        title="plumetrace invert",
    )
