"""The report's figures, drawn locally with matplotlib from the run's data (no map tiles): PNG bytes.

* :func:`overview_map`: every site (size: rate, colour: confidence) over the footprints of the campaign's scenes,
  in the local UTM zone, with scale bar and north arrow.
* :func:`quicklook`: one detection: the albedo (grey) under the enhancement smoothed over 1 pixel where above 3σ of its noise (colour bar), the plume outline,
  the source marker, the wind arrow, scale bar and north arrow.
* :func:`history_plot`: a site's overpasses in time: rate with its 68 % interval when detected, the detection limit
  (open triangle) when not.

Every label comes through the report's catalogue (``tr``: a :class:`plumetrace.report.i18n.Formatter`).
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from plumetrace.io.mapplot import MapFrame, map_page, save_page
from plumetrace.report.i18n import N_

__all__ = ["history_plot", "overview_map", "quicklook", "utm_crs"]

_FOOTPRINT_COLOUR = "#4c78a8"
#: The axis labels of :func:`plumetrace.io.mapplot.grid_frame`, as the report's catalogue holds them.
_AXIS_LABELS = {
    "easting (km)": N_("easting (km)"),
    "northing (km)": N_("northing (km)"),
    "longitude (°)": N_("longitude (°)"),
    "latitude (°)": N_("latitude (°)"),
    "column": N_("column"),
    "row": N_("row"),
}
_OVERLAY_SIGMA = 3.0  # the enhancement is drawn where it exceeds this many background sigmas


def utm_crs(lon_deg: float, lat_deg: float) -> str:
    """The EPSG code (``EPSG:326ZZ`` north, ``EPSG:327ZZ`` south) of the UTM zone holding a point."""
    zone = int(math.floor((float(lon_deg) + 180.0) / 6.0)) % 60 + 1
    return f"EPSG:{(32600 if lat_deg >= 0 else 32700) + zone}"


def _png(fig: Any) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=fig.dpi)
    return buffer.getvalue()


def _polygons(geometry: dict[str, Any] | None) -> list[np.ndarray]:
    """Exterior rings (N × 2 lon/lat arrays) of a GeoJSON Polygon or MultiPolygon."""
    if not geometry:
        return []
    kind, coords = geometry.get("type"), geometry.get("coordinates") or []
    if kind == "Polygon":
        return [np.asarray(coords[0], dtype=float)[:, :2]] if coords else []
    if kind == "MultiPolygon":
        return [np.asarray(poly[0], dtype=float)[:, :2] for poly in coords if poly]
    return []


def overview_map(
    sites: Sequence[dict[str, Any]],
    footprints: Sequence[dict[str, Any]],
    tr: Any,
) -> bytes:
    """Map of the sites over the scenes' footprints (where the campaign looked), in km of the local UTM zone.

    Parameters
    ----------
    sites : rows of sites.csv (``site_id``, ``lat``, ``lon``, ``pw_rate_kg_h``, ``confidence``).
    footprints : GeoJSON Features of the scenes (lon/lat polygons).
    tr : Formatter
        Labels and numbers in the report's language.
    """
    from matplotlib import colormaps
    from matplotlib.colors import Normalize
    from pyproj import Transformer

    lons = [float(s["lon"]) for s in sites]
    lats = [float(s["lat"]) for s in sites]
    rings = [ring for f in footprints for ring in _polygons(f.get("geometry"))]
    for ring in rings:
        lons.extend(ring[:, 0])
        lats.extend(ring[:, 1])
    fig, ax, cax = map_page(tr.gettext("Sites and the areas the campaign covered"))
    if not lons:
        ax.text(0.5, 0.5, tr.gettext("No area was covered: every input failed."), ha="center", transform=ax.transAxes)
        ax.set_axis_off()
        cax.set_axis_off()
        return _png(fig)
    crs = utm_crs(float(np.mean(lons)), float(np.mean(lats)))
    to_utm = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
    for k, ring in enumerate(rings):
        x, y = to_utm.transform(ring[:, 0], ring[:, 1])
        label = tr.gettext("scene footprint (area covered)") if k == 0 else None
        ax.fill(np.asarray(x) / 1000, np.asarray(y) / 1000, color=_FOOTPRINT_COLOUR, alpha=0.12, label=label)
        ax.plot(np.asarray(x) / 1000, np.asarray(y) / 1000, color=_FOOTPRINT_COLOUR, lw=0.8)
    norm = Normalize(0.0, 1.0)
    cmap = colormaps["viridis"]
    if sites:
        x, y = to_utm.transform([float(s["lon"]) for s in sites], [float(s["lat"]) for s in sites])
        rates = np.array([_number(s.get("pw_rate_kg_h")) or 0.0 for s in sites])
        top = float(np.nanmax(rates)) if np.nanmax(rates) > 0 else 1.0
        sizes = 40 + 360 * np.sqrt(np.clip(rates, 0, None) / top)
        colours = [cmap(norm(_number(s.get("confidence")) or 0.0)) for s in sites]
        ax.scatter(np.asarray(x) / 1000, np.asarray(y) / 1000, s=sizes, c=colours, edgecolors="black", zorder=3)
        for s, xi, yi in zip(sites, x, y):
            ax.annotate(
                str(s["site_id"]).replace("site-", ""), (xi / 1000, yi / 1000), xytext=(7, 7),
                textcoords="offset points", fontsize=9, weight="bold",
            )  # fmt: skip
    else:
        ax.text(0.5, 0.95, tr.gettext("No site was found."), ha="center", va="top", transform=ax.transAxes)
    from matplotlib.cm import ScalarMappable

    fig.colorbar(ScalarMappable(norm=norm, cmap=cmap), cax=cax, label=tr.gettext("site confidence (0–1)"))
    if sites:  # a grey circle in the legend explains the sizes
        ax.scatter(
            [],
            [],
            s=120,
            c="0.6",
            edgecolors="black",
            label=tr.gettext("site (circle area: persistence-weighted rate)"),
        )
    if rings or sites:
        ax.legend(loc="lower left", fontsize=8)
    xs, ys = ax.get_xlim(), ax.get_ylim()
    pad = 0.08 * max(xs[1] - xs[0], ys[1] - ys[0], 1.0)
    ax.set_xlim(xs[0] - pad, xs[1] + pad)
    ax.set_ylim(ys[0] - pad, ys[1] + pad)
    code = int(crs.split(":")[1])
    frame = MapFrame(
        None,
        tr.gettext("easting (km, UTM zone {zone})").format(zone=f"{code % 100}{'N' if code < 32700 else 'S'}"),
        tr.gettext("northing (km)"),
        (1000.0, 1000.0),
        0.0,
        None,
    )
    buffer = io.BytesIO()
    save_page(fig, ax, frame, buffer, aspect=1.0, cax=cax)
    return buffer.getvalue()


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _window(shape: tuple[int, int], rows: np.ndarray, cols: np.ndarray, margin: float = 0.35, least: int = 24):
    """Row and column slices around pixel positions, with a margin, at least ``least`` pixels each way."""
    r0, r1 = float(np.nanmin(rows)), float(np.nanmax(rows))
    c0, c1 = float(np.nanmin(cols)), float(np.nanmax(cols))
    half = max(r1 - r0, c1 - c0, least) * (0.5 + margin)
    rc, cc = (r0 + r1) / 2, (c0 + c1) / 2
    rs = slice(max(0, int(rc - half)), min(shape[0], int(math.ceil(rc + half))))
    cs = slice(max(0, int(cc - half)), min(shape[1], int(math.ceil(cc + half))))
    return rs, cs


def quicklook(
    data: Any,
    record: dict[str, Any],
    outline: dict[str, Any] | None,
    tr: Any,
    *,
    title: str = "",
) -> bytes:
    """Map of one detection from the scene's enhancement map and its plume record.

    Parameters
    ----------
    data : Dataset
        The enhancement map as :func:`plumetrace.io.cog.read_enhancement` returns it (``enhancement`` ppm·m,
        optional ``albedo``, attrs ``crs`` and ``transform``).
    record : dict
        The plume's row of plumes.csv (``source_row``, ``source_col``, ``wind_dir_deg``, ``wind_speed_m_s``,
        ``background_sigma_ppm_m``, rates in kg/h).
    outline : GeoJSON geometry (lon/lat) or None
        The plume's outline from plumes.geojson.
    tr : Formatter
    """
    from matplotlib import colormaps
    from rasterio.transform import Affine

    from plumetrace.io.mapplot import grid_frame

    values = np.asarray(data["enhancement"].values, dtype=np.float64)
    crs, transform = data.attrs.get("crs"), data.attrs.get("transform")
    source_row, source_col = float(record["source_row"]), float(record["source_col"])
    ring_pixels: list[tuple[np.ndarray, np.ndarray]] = []
    if outline is not None and crs is not None and transform is not None:
        from pyproj import Transformer

        inverse = ~Affine(*[float(v) for v in transform[:6]])
        to_map = Transformer.from_crs("EPSG:4326", crs, always_xy=True)
        for ring in _polygons(outline):
            x, y = to_map.transform(ring[:, 0], ring[:, 1])
            cols, rows = inverse * (np.asarray(x), np.asarray(y))
            ring_pixels.append((np.asarray(rows), np.asarray(cols)))
    rows = np.concatenate([r for r, _ in ring_pixels] + [np.array([source_row + 0.5])])
    cols = np.concatenate([c for _, c in ring_pixels] + [np.array([source_col + 0.5])])
    rs, cs = _window(values.shape, rows, cols)
    crop = values[rs, cs]
    sub_transform = None
    if transform is not None:
        sub_transform = tuple(Affine(*[float(v) for v in transform[:6]]) * Affine.translation(cs.start, rs.start))[:6]
    frame = grid_frame(crop.shape, crs, sub_transform)
    fig, ax, cax = map_page(title)
    if "albedo" in data:
        albedo = np.asarray(data["albedo"].values, dtype=np.float64)[rs, cs]
        finite = albedo[np.isfinite(albedo)]
        low, high = np.percentile(finite, [2, 98]) if finite.size else (0.0, 1.0)
        ax.imshow(
            albedo, cmap="gray", vmin=low, vmax=max(high, low + 1e-6), alpha=0.55, extent=frame.extent,
            interpolation="nearest",
        )  # fmt: skip
    smooth = _smoothed(crop)
    finite_values = smooth[np.isfinite(smooth)]
    noise = 1.4826 * float(np.median(np.abs(finite_values - np.median(finite_values)))) if finite_values.size else 1.0
    floor = float(np.median(finite_values)) + _OVERLAY_SIGMA * noise if finite_values.size else 0.0
    above = np.isfinite(smooth) & (smooth >= floor)
    vmax = float(np.percentile(smooth[above], 99)) if above.any() else floor + 1.0
    image = ax.imshow(
        np.ma.masked_where(~above, smooth), cmap=colormaps["YlOrRd"], vmin=floor, vmax=max(vmax, floor + 1.0),
        extent=frame.extent, interpolation="nearest",
    )  # fmt: skip
    fig.colorbar(image, cax=cax, label=tr.gettext("enhancement, smoothed, above 3σ of its noise (ppm·m)"))
    for ring_rows, ring_cols in ring_pixels:
        x, y = frame.to_plot(ring_rows - rs.start, ring_cols - cs.start)
        ax.plot(x, y, color="cyan", lw=1.2)
    sx, sy = frame.to_plot(source_row + 0.5 - rs.start, source_col + 0.5 - cs.start)
    ax.plot(sx, sy, marker="*", color="lime", markersize=15, mec="black", mew=0.8, linestyle="none")
    ax.set_xlim(frame.extent[0], frame.extent[1])
    ax.set_ylim(min(frame.extent[2:]), max(frame.extent[2:]))
    frame.xlabel = tr.gettext(_AXIS_LABELS[frame.xlabel]) if frame.xlabel in _AXIS_LABELS else frame.xlabel
    frame.ylabel = tr.gettext(_AXIS_LABELS[frame.ylabel]) if frame.ylabel in _AXIS_LABELS else frame.ylabel
    _wind_arrow(fig, record, frame.north_deg, tr)
    buffer = io.BytesIO()
    save_page(fig, ax, frame, buffer, cax=cax)
    return buffer.getvalue()


def _smoothed(values: np.ndarray) -> np.ndarray:
    """The map smoothed by a Gaussian of 1 pixel (NaN-aware): the plume stands out of the pixel noise."""
    from scipy.ndimage import gaussian_filter

    valid = np.isfinite(values)
    weights = gaussian_filter(valid.astype(float), 1.0)
    filled = gaussian_filter(np.where(valid, values, 0.0), 1.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(valid, filled / weights, np.nan)


def _wind_arrow(fig: Any, record: dict[str, Any], north_deg: float, tr: Any) -> None:
    """An arrow pointing downwind (where the wind blows to), in the strip below the map, with speed and direction."""
    direction = _number(record.get("wind_dir_deg"))
    speed = _number(record.get("wind_speed_m_s"))
    if direction is None:
        return
    axes = fig.add_axes((0.52, 0.015, 0.07 * 7 / 9, 0.09))
    axes.set_axis_off()
    axes.set_xlim(-1, 1)
    axes.set_ylim(-1, 1)
    to = math.radians(direction + 180.0 + north_deg)
    dx, dy = 0.8 * math.sin(to), 0.8 * math.cos(to)
    axes.annotate("", xy=(dx, dy), xytext=(-dx, -dy), arrowprops={"arrowstyle": "-|>", "color": "#1f4e79", "lw": 2})
    text = tr.gettext("wind from {direction}°, {speed} m/s").format(
        direction=tr.num(direction), speed=tr.num(speed, 1) if speed is not None else "—"
    )
    fig.text(0.61, 0.06, text, fontsize=9, va="center")


def history_plot(series: Any, tr: Any, *, title: str = "") -> bytes:
    """A site's overpasses in time: detected rate ± 68 % interval; detection limit (open triangle) when not detected.

    Parameters
    ----------
    series : DataFrame
        ``sites/timeseries/site-NNN.csv``: ``time``, ``detected``, ``rate_kg_h``, ``rate_p16_kg_h``,
        ``rate_p84_kg_h``, ``detection_limit_kg_h``.
    tr : Formatter
    """
    import pandas as pd
    from matplotlib.figure import Figure

    series = series[pd.to_datetime(series["time"], utc=True, errors="coerce").notna()]
    times = pd.to_datetime(series["time"], utc=True, errors="coerce").dt.tz_localize(None)
    detected = (
        series.get("detected", pd.Series([True] * len(series))).astype(str).str.lower().isin(["true", "1", "yes"])
    )
    rate = pd.to_numeric(series.get("rate_kg_h"), errors="coerce")
    low = pd.to_numeric(series.get("rate_p16_kg_h"), errors="coerce")
    high = pd.to_numeric(series.get("rate_p84_kg_h"), errors="coerce")
    limit = pd.to_numeric(series.get("detection_limit_kg_h"), errors="coerce")
    fig = Figure(figsize=(9.0, 3.6), dpi=100)
    ax = fig.add_axes((0.1, 0.2, 0.62, 0.68))
    hit = detected & rate.notna()
    if hit.any():
        err = np.vstack([(rate - low).where(low.notna(), 0)[hit], (high - rate).where(high.notna(), 0)[hit]])
        ax.errorbar(
            times[hit], rate[hit], yerr=np.clip(err, 0, None), fmt="o", color="#c0392b", capsize=4,
            label=tr.gettext("detected: rate and 68 % interval"),
        )  # fmt: skip
    counted = (
        series["counted"].astype(str).str.lower().isin(["true", "1", "yes"])
        if "counted" in series
        else pd.Series(True, index=series.index)
    )
    for chosen, colour, label in (
        (~detected & counted, "#34495e", tr.gettext("covered, not detected (at the detection limit)")),
        (~detected & ~counted, "#a0a0a0", tr.gettext("covered, but its detection limit is above the site's rate")),
    ):
        if chosen.any():
            ax.plot(times[chosen], limit[chosen].fillna(0.0), "v", mfc="none", mec=colour, ms=9, linestyle="none",
                    label=label)  # fmt: skip
    ax.set_ylim(bottom=0)
    ax.set_ylabel(tr.gettext("emission rate (kg/h)"))
    ax.set_xlabel(tr.gettext("overpass time (UTC)"))
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title, fontsize=10)
    ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=8, frameon=False)
    from matplotlib.dates import AutoDateLocator, DateFormatter

    valid = times.dropna()
    if len(valid) and (valid.max() - valid.min()) < pd.Timedelta(days=2):  # one overpass: a week around it
        ax.set_xlim(valid.min() - pd.Timedelta(days=3), valid.max() + pd.Timedelta(days=3))
    ax.xaxis.set_major_locator(AutoDateLocator(maxticks=6))
    ax.xaxis.set_major_formatter(DateFormatter("%Y-%m-%d"))  # ISO dates read the same in every language
    fig.autofmt_xdate()
    return _png(fig)
