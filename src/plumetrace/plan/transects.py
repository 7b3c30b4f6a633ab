"""In-situ survey patterns downwind of a suspected source: cross-wind transects or a vertical curtain.

For the in-situ inversion and mass-balance methods the aircraft crosses the plume at set distances
downwind. Geometry is computed on the WGS84 ellipsoid (pyproj ``Geod``): the transect centre lies
``distance`` along the downwind azimuth from the source, and the transect runs perpendicular to the local
downwind azimuth, ``width`` long, centred on the plume axis. A *curtain* flies the same ground line at
several altitudes (alternating direction), giving a vertical cross-section for mass balance.

Wind direction is meteorological: the direction the wind blows **from**, degrees clockwise from true north.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from pyproj import Geod
from shapely.geometry import LineString

from plumetrace.errors import InvalidInputError

__all__ = [
    "TRANSECT_ALTITUDE_M",
    "TRANSECT_SPEED_M_S",
    "default_transect_width_m",
    "downwind_transects",
    "draw_source_and_wind",
]

_GEOD = Geod(ellps="WGS84")

#: Default altitude above ground of transects, metres: a small multirotor with an in-situ analyser crosses a
#: near-surface plume low (10-50 m is usual for drone mass-balance flights), under the 120 m ceiling that
#: open-category drone rules set.
TRANSECT_ALTITUDE_M = 30.0
#: Default ground speed of transects and curtains, m/s: slow enough for a 1-10 Hz analyser to sample the
#: plume every metre or two.
TRANSECT_SPEED_M_S = 8.0


def default_transect_width_m(distance_m: float) -> float:
    """Default transect length, metres: ``100 + 0.6 d``.

    Wide enough for ±3 σ_y of a neutral (Pasquill-Gifford class D) plume, σ_y ≈ 0.08 d (1 + 0.0001 d)^-½
    (Briggs 1973, open country), plus 50 m either side for background.
    """
    return 100.0 + 0.6 * float(distance_m)


def downwind_transects(
    source_lonlat: tuple[float, float],
    *,
    wind_from_deg: float,
    distances_m: Sequence[float],
    altitudes_m: Sequence[float],
    width_m: float | None = None,
) -> list[tuple[LineString, float, float]]:
    """Cross-wind transects downwind of a source.

    Parameters
    ----------
    source_lonlat
        Suspected source (lon, lat), degrees.
    wind_from_deg
        Wind direction (from), degrees clockwise from true north.
    distances_m
        Downwind distances of the transects from the source, metres (> 0), in the order flown.
    altitudes_m
        Flight altitudes above ground, metres: one for plain transects, several for a vertical curtain.
    width_m
        Transect length across the wind, metres; :func:`default_transect_width_m` of each distance when None.

    Returns
    -------
    list of (LineString lon/lat, distance_m, altitude_m)
        One per (distance, altitude), alternating direction so consecutive passes turn around.
    """
    lon0, lat0 = map(float, source_lonlat)
    if not (-90.0 <= lat0 <= 90.0 and -180.0 <= lon0 <= 180.0):
        raise InvalidInputError(
            "source", f"({lat0:g}, {lon0:g}) is not a latitude in [-90, 90] and a longitude in [-180, 180] degrees"
        )
    if not (math.isfinite(wind_from_deg) and -360.0 <= wind_from_deg <= 360.0):
        raise InvalidInputError("wind_dir", f"must be a direction in [-360, 360] degrees, got {wind_from_deg}")
    distances = [float(d) for d in distances_m]
    if not distances or any(not (0.0 < d <= 100_000.0) for d in distances):
        raise InvalidInputError("distances", f"need one or more distances in (0, 100000] m, got {distances_m}")
    altitudes = [float(a) for a in altitudes_m]
    if not altitudes or any(not (1.0 <= a <= 20_000.0) for a in altitudes):
        raise InvalidInputError("altitudes", f"need one or more altitudes in [1, 20000] m, got {altitudes_m}")
    if width_m is not None and not (1.0 <= float(width_m) <= 200_000.0):
        raise InvalidInputError("transect_width_m", f"must lie in [1, 200000] m, got {width_m}")
    downwind_az = (wind_from_deg + 180.0) % 360.0
    out: list[tuple[LineString, float, float]] = []
    flip = False
    for d in distances:
        clon, clat, back_az = _GEOD.fwd(lon0, lat0, downwind_az, d)
        heading = (back_az + 180.0) % 360.0  # downwind azimuth at the transect centre
        half = (width_m if width_m is not None else default_transect_width_m(d)) / 2.0
        lon_a, lat_a, _ = _GEOD.fwd(clon, clat, heading - 90.0, half)
        lon_b, lat_b, _ = _GEOD.fwd(clon, clat, heading + 90.0, half)
        for alt in altitudes:
            ends = [(lon_a, lat_a), (lon_b, lat_b)]
            if flip:
                ends.reverse()
            flip = not flip
            out.append((LineString(ends), d, alt))
    return out


def _downwind_offsets(line: LineString, source_lonlat: tuple[float, float], wind_from_deg: float) -> np.ndarray:
    """(along, across) wind offsets, metres, of a transect's end points from the source (used by tests)."""
    lon0, lat0 = source_lonlat
    pts = np.asarray(line.coords)
    az, _, dist = _GEOD.inv(np.full(len(pts), lon0), np.full(len(pts), lat0), pts[:, 0], pts[:, 1])
    rel = np.radians(az - (wind_from_deg + 180.0))
    return np.column_stack([dist * np.cos(rel), dist * np.sin(rel)])


def draw_source_and_wind(
    ax,  # noqa: ANN001 - a matplotlib Axes in lon/lat degrees
    source_lonlat: tuple[float, float],
    wind_from_deg: float,
    length_m: float,
    *,
    reference_lon_deg: float,
) -> None:
    """Mark the source and draw a wind arrow from it, pointing downwind, on a lon/lat map.

    Parameters
    ----------
    ax
        Matplotlib axes whose x is longitude and y latitude, degrees.
    source_lonlat
        Source (lon, lat), degrees.
    wind_from_deg
        Wind direction (from), degrees clockwise from true north.
    length_m
        Arrow length on the ground, metres.
    reference_lon_deg
        Longitude the map's longitudes are unwrapped around (maps across 180° stay continuous), degrees.
    """
    from plumetrace.plan.geometry import unwrap_longitudes

    lon0, lat0 = map(float, source_lonlat)
    lon1, lat1, _ = _GEOD.fwd(lon0, lat0, (wind_from_deg + 180.0) % 360.0, float(length_m))
    lons = unwrap_longitudes(np.array([lon0, lon1]), reference_deg=reference_lon_deg)
    ax.annotate(
        "",
        xy=(lons[1], lat1),
        xytext=(lons[0], lat0),
        arrowprops={"arrowstyle": "-|>", "color": "tab:blue", "lw": 2.0, "mutation_scale": 18},
    )
    ax.plot([], [], color="tab:blue", lw=2.0, label=f"wind from {wind_from_deg % 360:.0f}°")  # legend entry
    ax.plot([lons[0]], [lat0], marker="^", ms=11, color="tab:red", mec="k", ls="none", label="source")
