"""From an enhancement map to plume records: segment, locate each source, quantify each rate.

:func:`analyze_plumes` is the one library call behind ``plumetrace plumes``. It takes the detection product
(an :class:`xarray.Dataset` with ``enhancement(y, x)`` in ppm·m and, optionally, ``uncertainty(y, x)``; attrs gas,
sensor, acquisition_time, crs/transform or lat/lon coordinates, pixel_size_m) and returns a :class:`PlumeResult`
whose records carry exactly the properties of the plume products (see :data:`RECORD_FIELDS`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import xarray as xr
from scipy import ndimage

from plumetrace.errors import InvalidFileError, InvalidInputError
from plumetrace.pixel_geometry import PixelGeometry, downwind_unit_vector, pixel_geometry
from plumetrace.plumes.calibration import UeffCalibration, ueff_calibration
from plumetrace.plumes.complexes import DEFAULT_MERGE_RULE, MergeRule, merge_components
from plumetrace.plumes.csf import FluxEstimate, monte_carlo_csf
from plumetrace.plumes.ime import (
    integrated_mass_enhancement_kg,
    plume_length_m,
    ppm_m_to_kg_m2,
)
from plumetrace.plumes.montecarlo import RateEstimate, monte_carlo_rate
from plumetrace.plumes.nearlimit import near_limit_fields, widen_for_selection_bias
from plumetrace.plumes.segment import (
    DEFAULT_SEGMENT_PARAMS,
    SegmentParams,
    pixel_noise_ppm_m,
    robust_background,
    segment_plumes,
)
from plumetrace.plumes.source import locate_source
from plumetrace.plumes.wind import Wind

__all__ = ["check_plume_options", "RECORD_FIELDS", "PlumeResult", "analyze_plumes", "plume_crop", "plume_outline"]

RECORD_FIELDS = (
    "plume_id",
    "gas",
    "sensor",
    "time",
    "source_lat",
    "source_lon",
    "max_enhancement_ppm_m",
    "ime_kg",
    "length_m",
    "wind_speed_m_s",
    "emission_rate_kg_h",
    "emission_rate_sigma_kg_h",
    "method",
)

WindProvider = Callable[[float | None, float | None, str | None], Wind]


@dataclass
class PlumeResult:
    """Plume labels (y, x) and one record per plume (dicts; the product properties first, then extras).

    ``labels`` numbers the plume complexes (``plume_id``: components of one plume joined under one source, see
    :mod:`plumetrace.plumes.complexes`); ``components`` (y, x) holds the segmentation's components they are made of
    (the ids of a record's ``component_ids``).
    ``anomaly`` (y, x) is the background-removed enhancement (ppm·m) every rate was computed from; with
    :func:`plume_crop`, the labels and a record's ``source_row`` / ``source_col`` it reproduces a plume's inputs
    (re-quantifying with other winds, calibrating the CSF's structural σ). ``noise_model`` says where each pixel's
    1σ came from: ``"uncertainty"`` (the map's per-pixel 1σ scaled to its robust level) or ``"background"`` (no
    uncertainty in the map: the robust background σ, 1.4826 × MAD of the map after clipping its bright tail).
    """

    labels: xr.DataArray
    records: list[dict[str, Any]] = field(default_factory=list)
    outlines: list[Any] = field(default_factory=list)
    geometry: PixelGeometry | None = None
    anomaly: np.ndarray | None = None
    noise_model: str = "background"
    components: xr.DataArray | None = None


PLUME_CROP_PAD_PX = 4  # pixels around each plume's bounding box: every per-plume step sees all it needs


def plume_crop(labels: np.ndarray, plume_id: int, *, pad_px: int = PLUME_CROP_PAD_PX) -> tuple[slice, slice]:
    """The (rows, cols) slices of the box around plume ``plume_id`` of a label map (y, x), ``pad_px`` wider on
    each side (clipped at the map edge): the crop :func:`analyze_plumes` quantifies each plume on."""
    boxes = ndimage.find_objects((np.asarray(labels) == plume_id).astype(np.int8))
    if not boxes:
        raise InvalidInputError("plume_id", f"no plume {plume_id} in the label map")
    return _padded(boxes[0], pad_px)


def _max_or_nan(values: np.ndarray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.max()) if finite.size else float("nan")


def _padded(box: tuple[slice, slice], pad_px: int) -> tuple[slice, slice]:
    return (
        slice(max(box[0].start - pad_px, 0), box[0].stop + pad_px),
        slice(max(box[1].start - pad_px, 0), box[1].stop + pad_px),
    )


def plume_outline(mask: np.ndarray, geometry: PixelGeometry, *, offset_rc: tuple[int, int] = (0, 0)) -> Any:
    """Outline of a plume mask as a shapely (Multi)Polygon in lon/lat degrees, or in pixel (col, row) units when
    the map is not georeferenced. ``offset_rc`` is the position of ``mask[0, 0]`` in the full map."""
    import shapely
    import shapely.affinity
    from rasterio import features
    from shapely.geometry import shape
    from shapely.ops import unary_union

    polygons = [shape(geom) for geom, value in features.shapes(mask.astype(np.uint8), mask=mask) if value == 1]
    outline = shapely.affinity.translate(unary_union(polygons), xoff=offset_rc[1], yoff=offset_rc[0])
    if not geometry.georeferenced:
        return outline

    def to_lonlat(xy: np.ndarray) -> np.ndarray:
        # vertices are pixel-edge (col, row); pixel centres sit at +0.5, which lonlat() adds back
        lonlat = geometry.lonlat(xy[:, 1] - 0.5, xy[:, 0] - 0.5)
        assert lonlat is not None
        return np.column_stack(lonlat)

    return shapely.transform(outline, to_lonlat)


def _interval_fields(prefix: str, estimate: RateEstimate | FluxEstimate) -> dict[str, float]:
    """The interval and systematic/total fields of a plume record for one estimate, named ``{prefix}_...``."""
    return {
        f"{prefix}_p16_kg_h": estimate.interval68_kg_h[0],
        f"{prefix}_p84_kg_h": estimate.interval68_kg_h[1],
        f"{prefix}_sigma_systematic_kg_h": estimate.emission_rate_sigma_systematic_kg_h,
        f"{prefix}_sigma_total_kg_h": estimate.emission_rate_sigma_total_kg_h,
        f"{prefix}_total_p16_kg_h": estimate.interval68_total_kg_h[0],
        f"{prefix}_total_p84_kg_h": estimate.interval68_total_kg_h[1],
    }


def _component_fields(
    components: np.ndarray,
    mask: np.ndarray,
    group: list[int],
    anomaly: np.ndarray,
    source_rc: tuple[float, float],
    wind: Wind,
    geometry: PixelGeometry,
) -> dict[str, Any]:
    """The complex fields of a plume record: its components (ids, pixels, mass fractions, ``;``-separated, the
    most upwind first) and its along-/across-wind extent (m) from the source."""
    mass = np.where(mask & np.isfinite(anomaly), anomaly, 0.0)
    total = float(mass.sum())
    pixels = [int((components == cid).sum()) for cid in group]
    fractions = [float(mass[components == cid].sum()) / total if total > 0 else float("nan") for cid in group]
    rows, cols = np.nonzero(mask)
    east, north = geometry.to_metres(np.append(rows, source_rc[0]), np.append(cols, source_rc[1]))
    dw_e, dw_n = downwind_unit_vector(wind.direction_deg)
    de, dn = np.asarray(east[:-1]) - east[-1], np.asarray(north[:-1]) - north[-1]
    along, across = de * dw_e + dn * dw_n, -de * dw_n + dn * dw_e
    pixel = geometry.pixel_size_m
    return {
        "n_components": len(group),
        "component_ids": ";".join(str(cid) for cid in group),
        "component_pixels": ";".join(str(n) for n in pixels),
        "component_mass_fractions": ";".join(f"{f:.3f}" for f in fractions),
        "extent_along_wind_m": float(max(along.max(), 0.0) - min(along.min(), 0.0)) + pixel,
        "extent_across_wind_m": float(across.max() - across.min()) + pixel,
    }


def _dataset(enhancement: xr.Dataset | xr.DataArray) -> xr.Dataset:
    """The map as a Dataset with ``enhancement`` (y, x) in ppm·m and ``crs``/``transform`` in its attrs.

    A DataArray (e.g. ``rioxarray.open_rasterio``) may carry a ``band`` dimension of length 1; its nodata value
    (``rio.nodata`` or ``_FillValue``) becomes NaN and a stated ``units`` attribute is converted to ppm·m
    (:mod:`plumetrace.io.map_units`; none stated reads as ppm·m). CRS and transform come from ``rio`` when the
    attrs do not hold them.
    """
    if isinstance(enhancement, xr.DataArray):
        array = enhancement
        extra = [dim for dim in array.dims if dim not in ("y", "x") and array.sizes[dim] == 1]
        if array.ndim == 3 and extra:
            array = array.squeeze(extra[0], drop=True)
        elif array.ndim == 3:
            raise InvalidInputError(
                "enhancement", f"{dict(array.sizes)}: a map of several bands; select the enhancement band"
            )
        values = np.asarray(array.values, dtype=np.float32)
        nodata = _rio(array, lambda rio: rio.nodata)
        nodata = array.attrs.get("_FillValue", array.encoding.get("_FillValue")) if nodata is None else nodata
        if nodata is not None and np.isfinite(nodata):
            values = np.where(values == np.float32(nodata), np.float32(np.nan), values)
        attrs = {key: value for key, value in array.attrs.items() if key not in ("_FillValue", "scale_factor")}
        ds = xr.Dataset({"enhancement": (array.dims, values, {"units": "ppm m"})}, coords=array.coords, attrs=attrs)
        if attrs.get("units"):
            from plumetrace.io.map_units import UNITS_HELP, ppm_m_factor

            factor = ppm_m_factor(str(attrs["units"]))
            if factor is None:
                raise InvalidInputError(
                    "units", f"{attrs['units']!r} is not a column enhancement unit; plumetrace reads {UNITS_HELP}"
                )
            ds["enhancement"] = ds["enhancement"] * np.float32(factor)
            ds["enhancement"].attrs["units"] = "ppm m"
            ds.attrs["units"] = "ppm m"
            if factor != 1.0:
                ds.attrs["source_units"] = str(attrs["units"])
        source = enhancement
    elif "enhancement" not in enhancement:
        raise InvalidInputError("enhancement", "dataset has no 'enhancement' variable")
    else:
        ds, source = enhancement, enhancement["enhancement"]
    if not (ds.attrs.get("crs") and ds.attrs.get("transform") is not None):
        crs = _rio(source, lambda rio: rio.crs)
        if crs is not None and "x" in source.coords and "y" in source.coords:
            transform = _rio(source, lambda rio: rio.transform(recalc=True))
            if transform is not None and not transform.is_identity:
                ds = ds.copy()
                ds.attrs.update(crs=crs.to_wkt(), transform=list(transform)[:6])
    if "acquisition_time" not in ds.attrs and ds.attrs.get("time_coverage_start"):
        ds.attrs["acquisition_time"] = str(ds.attrs["time_coverage_start"])
    return ds


def _rio(array: xr.DataArray, get: Callable[[Any], Any]) -> Any:
    """``get(array.rio)`` with rioxarray (imported here: optional), or None without it or on any rio error."""
    try:
        import rioxarray  # noqa: F401  (registers the .rio accessor)
    except ImportError:  # pragma: no cover - rioxarray is a dependency
        return None
    try:
        return get(array.rio)
    except Exception:  # rioxarray raises its own errors for grids it cannot describe: no rio georeferencing
        return None


def check_plume_options(*, seed: int = 0, pixel_size_m: float | None = None, sensor: str | None = None) -> None:
    """Check the options of :func:`analyze_plumes` that need no map, so a caller can refuse them before reading one.

    Raises
    ------
    InvalidInputError
        ``seed`` not an integer ≥ 0, ``pixel_size_m`` not a positive number of metres, ``sensor`` without a U_eff
        calibration row.
    """
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**63 - 10**6:
        raise InvalidInputError("seed", f"must be an integer >= 0, got {seed!r}")
    if pixel_size_m is not None and (not np.isfinite(pixel_size_m) or pixel_size_m <= 0):
        raise InvalidInputError("pixel size", f"must be a positive number of metres, got {pixel_size_m!r}")
    if sensor is not None:
        ueff_calibration(sensor)


def analyze_plumes(
    enhancement: xr.Dataset | xr.DataArray,
    *,
    wind: Wind | WindProvider,
    pixel_size_m: float | None = None,
    sensor: str | None = None,
    gas: str | None = None,
    params: SegmentParams = DEFAULT_SEGMENT_PARAMS,
    n_samples: int = 4000,
    seed: int = 0,
    calibration: UeffCalibration | None = None,
    csf_samples: int = 200,
    merge_rule: MergeRule | None = DEFAULT_MERGE_RULE,
) -> PlumeResult:
    """Segment the plumes of an enhancement map, locate their sources and quantify their emission rates.

    Parameters
    ----------
    enhancement : Dataset with ``enhancement(y, x)`` (ppm·m) or that DataArray
        The detection product (``plumetrace.io.cog.read_enhancement`` or ``detect_scene``), or any one-band map,
        e.g. from ``rioxarray.open_rasterio`` (a ``band`` dimension of length 1 is dropped, nodata becomes NaN, a
        stated ``units`` attribute is converted to ppm·m, CRS and transform come from ``rio``). Its
        ``uncertainty(y, x)`` (per-pixel 1σ), when present, shapes the segmentation's significance map; without
        it every pixel's 1σ is the map's robust background σ (``PlumeResult.noise_model``).
    wind : Wind or callable(lat, lon, time) -> Wind
        One wind for every plume, or a function sampling a wind series at each source (lat/lon None when the map
        is not georeferenced; time is ``attrs["acquisition_time"]``).
    pixel_size_m : float, optional
        Ground sampling distance; overrides the map's georeferencing (required when the map has none).
    sensor, gas : str, optional
        Override ``attrs["sensor"]`` / ``attrs["gas"]`` (defaults ``generic`` / ``ch4``).
    params : SegmentParams
        Segmentation settings.
    n_samples, seed : int
        Monte Carlo draws per plume (IME) and their seed. The IME's retrieval-noise term uses each plume pixel's
        1σ (:func:`plumetrace.plumes.segment.pixel_noise_ppm_m`: the per-pixel ``uncertainty`` scaled to the map's
        robust level, or the background sigma without it).
    csf_samples : int
        Monte Carlo draws of the cross-sectional flux over the wind speed and direction errors (``wind`` carries
        ``direction_sigma_deg``; 0 switches the direction error off).
    calibration : UeffCalibration, optional
        Effective-wind calibration replacing the sensor's row of ``UEFF_TABLE``.
    merge_rule : MergeRule or None
        How components along the wind from a common source join into one plume complex
        (:mod:`plumetrace.plumes.complexes`); None reports every component as a plume of its own.

    Returns
    -------
    PlumeResult

    Raises
    ------
    InvalidInputError
        Empty map, no pixel size, unknown sensor or gas, bad wind.
    """
    ds = _dataset(enhancement)
    where = ds.encoding.get("source")  # the file the map was read from (read_enhancement), to name in errors

    def bad(field: str, problem: str) -> InvalidInputError | InvalidFileError:
        return InvalidFileError(where, field, problem) if where else InvalidInputError(field, problem)

    check_plume_options(seed=seed, pixel_size_m=pixel_size_m)
    enh = ds["enhancement"]
    if enh.ndim != 2 or enh.size == 0:
        raise bad("enhancement", f"must be a non-empty 2-D map, got shape {enh.shape}")
    values = np.asarray(enh.values, dtype=np.float64)
    if not np.isfinite(values).any():
        raise bad("enhancement", "map is empty (no finite pixels)")
    sensor_from_map, gas_from_map = (
        sensor is None and bool(ds.attrs.get("sensor")),
        gas is None and bool(ds.attrs.get("gas")),
    )
    sensor = str(sensor or ds.attrs.get("sensor") or "generic").lower()
    gas = str(gas or ds.attrs.get("gas") or "ch4").lower()
    try:  # fail early on an unknown sensor or gas, naming the file when the map's tags named them
        calibration = calibration or ueff_calibration(sensor)
    except InvalidInputError as exc:
        raise (bad("sensor", f"{exc.problem}; give the sensor (sensor_name)") if sensor_from_map else exc) from None
    try:
        ppm_m_to_kg_m2(gas)
    except InvalidInputError as exc:
        raise (bad("gas", exc.problem) if gas_from_map else exc) from None
    try:
        geometry = pixel_geometry(ds, pixel_size_m=pixel_size_m)
    except InvalidInputError as exc:
        if pixel_size_m is None and where:  # the file lacks what the rate needs
            raise InvalidFileError(where, "transform", f"{exc.problem}") from None
        raise
    time = ds.attrs.get("acquisition_time")

    enh_for_segment = enh.copy()
    enh_for_segment.attrs = {**ds.attrs, **enh.attrs}
    uncertainty = ds["uncertainty"] if "uncertainty" in ds and ds["uncertainty"].shape == enh.shape else None
    albedo = ds["albedo"] if "albedo" in ds and ds["albedo"].shape == enh.shape else None
    identified = (
        np.asarray(ds["gas_probability"].values, dtype=np.float64)
        if "gas_probability" in ds and ds["gas_probability"].shape == enh.shape
        else None
    )
    try:
        labels = segment_plumes(enh_for_segment, uncertainty=uncertainty, albedo=albedo, params=params)
    except InvalidInputError as exc:
        if exc.field in ("enhancement", "uncertainty", "albedo"):  # a property of the map: name its file
            raise bad(exc.field, exc.problem) from None
        raise
    column_wise = bool(labels.attrs["column_wise"])
    median, sigma = robust_background(values, column_wise=column_wise, min_column_pixels=params.min_column_pixels)
    anomaly = values - median  # background-removed enhancement, ppm·m
    background_sigma = float(np.median(sigma))
    # per-pixel noise for the IME's retrieval-noise term (the retrieval's uncertainty scaled to the map's level)
    noise_map = pixel_noise_ppm_m(
        values, uncertainty=uncertainty, column_wise=column_wise, min_column_pixels=params.min_column_pixels
    )

    pixel = geometry.pixel_size_m
    component_values = np.asarray(labels.values)
    objects = ndimage.find_objects(component_values)
    n_components = int(labels.attrs["n_plumes"])
    guesses: dict[int, Wind] = {}
    sources: dict[int, Any] = {}

    def component_wind(cid: int) -> Wind:
        if cid not in guesses:
            if isinstance(wind, Wind):
                guesses[cid] = wind
            else:  # sample at the component's peak
                crop = objects[cid - 1]
                masked = np.where(component_values[crop] == cid, anomaly[crop], -np.inf)
                peak = np.unravel_index(np.nanargmax(masked), masked.shape)
                lonlat = geometry.lonlat(peak[0] + crop[0].start, peak[1] + crop[1].start)
                lon0, lat0 = (float(lonlat[0]), float(lonlat[1])) if lonlat else (None, None)
                guesses[cid] = wind(lat0, lon0, time)
        return guesses[cid]

    def component_source(cid: int) -> tuple[float, float]:
        crop = _padded(objects[cid - 1], PLUME_CROP_PAD_PX)
        src = locate_source(
            anomaly[crop],
            component_values[crop] == cid,
            geometry=geometry,
            direction_deg=component_wind(cid).direction_deg,
            noise_sigma_ppm_m=background_sigma,
        )
        sources[cid] = src
        return src.row + crop[0].start, src.col + crop[1].start

    ids = list(range(1, n_components + 1))
    if merge_rule is None:
        groups = [[cid] for cid in ids]
        for cid in ids:
            component_source(cid)
    else:
        complexes = merge_components(
            component_values,
            geometry,
            lambda cid: (component_wind(cid).direction_deg, component_wind(cid).direction_sigma_deg),
            component_source,
            low_sigma=params.low_sigma,
            high_sigma=params.high_sigma,
            rule=merge_rule,
        )
        groups = [plume.components for plume in complexes]
    lookup = np.zeros(n_components + 1, dtype=np.int32)
    for plume_id, group in enumerate(groups, start=1):
        lookup[group] = plume_id
    label_values = lookup[component_values]
    complex_labels = labels.copy(data=label_values)
    complex_labels.attrs.update(n_plumes=len(groups), n_components=n_components)
    result = PlumeResult(
        labels=complex_labels,
        geometry=geometry,
        anomaly=anomaly,
        noise_model="background" if uncertainty is None else "uncertainty",
        components=labels.rename("plume_component"),
    )
    complex_objects = ndimage.find_objects(label_values)
    for plume_id, group in enumerate(groups, start=1):
        crop = _padded(complex_objects[plume_id - 1], PLUME_CROP_PAD_PX)  # as plume_crop(label_values, plume_id)
        r0, c0 = crop[0].start, crop[1].start
        mask = label_values[crop] == plume_id
        crop_anomaly = anomaly[crop]
        first_crop = _padded(objects[group[0] - 1], PLUME_CROP_PAD_PX)
        src = sources[group[0]]  # the source of the most upwind component
        source_row, source_col = src.row + first_crop[0].start, src.col + first_crop[1].start
        lonlat = geometry.lonlat(source_row, source_col)
        source_lon, source_lat = (float(lonlat[0]), float(lonlat[1])) if lonlat else (None, None)
        plume_wind = wind if isinstance(wind, Wind) else wind(source_lat, source_lon, time)  # type: ignore[operator]
        src_rc = (source_row - r0, source_col - c0)

        ime = integrated_mass_enhancement_kg(crop_anomaly, mask, pixel_size_m=pixel, gas=gas)
        length = plume_length_m(mask, pixel_size_m=pixel)
        estimate = monte_carlo_rate(
            ime,
            length,
            int(mask.sum()),
            wind_speed_m_s=plume_wind.speed_m_s,
            wind_speed_sigma_m_s=plume_wind.speed_sigma_m_s,
            background_sigma_ppm_m=background_sigma,
            pixel_size_m=pixel,
            sensor=sensor,
            gas=gas,
            n_samples=n_samples,
            seed=seed + plume_id,
            calibration=calibration,
            pixel_sigma_ppm_m=noise_map[crop][mask],
        )
        csf = monte_carlo_csf(
            crop_anomaly,
            mask,
            source_rc=src_rc,
            wind_dir_deg=plume_wind.direction_deg,
            wind_dir_sigma_deg=plume_wind.direction_sigma_deg,
            wind_speed_m_s=plume_wind.speed_m_s,
            wind_speed_sigma_m_s=plume_wind.speed_sigma_m_s,
            downwind_rc=geometry.downwind_rc,
            pixel_size_m=pixel,
            sensor=sensor,
            gas=gas,
            calibration=calibration,
            n_samples=csf_samples,
            seed=seed + plume_id,
        )
        csf_rate, csf_sigma, n_transects = csf.emission_rate_kg_h, csf.emission_rate_sigma_kg_h, csf.n_transects
        peak_value = float(np.nanmax(np.where(mask, values[crop], np.nan)))
        peak_sigma = float(np.nanmax(np.where(mask, crop_anomaly, np.nan))) / background_sigma
        record: dict[str, Any] = {
            "plume_id": plume_id,
            "gas": gas,
            "sensor": sensor,
            "time": time,
            "source_lat": source_lat,
            "source_lon": source_lon,
            "max_enhancement_ppm_m": peak_value,
            "ime_kg": estimate.ime_kg,
            "length_m": estimate.length_m,
            "wind_speed_m_s": plume_wind.speed_m_s,
            "emission_rate_kg_h": estimate.emission_rate_kg_h,
            "emission_rate_sigma_kg_h": estimate.emission_rate_sigma_kg_h,
            "method": "ime",
            # extras
            **_interval_fields("emission_rate", estimate),
            "emission_rate_csf_kg_h": csf_rate,
            "emission_rate_csf_sigma_kg_h": csf_sigma,
            **_interval_fields("emission_rate_csf", csf),
            "csf_transects": n_transects,
            "ime_sigma_kg": estimate.ime_sigma_kg,
            "ueff_m_s": estimate.ueff_m_s,
            "wind_dir_deg": plume_wind.direction_deg,
            "wind_speed_sigma_m_s": plume_wind.speed_sigma_m_s,
            "wind_dir_sigma_deg": plume_wind.direction_sigma_deg,
            "wind_source": plume_wind.source,
            "source_row": source_row,
            "source_col": source_col,
            "source_sigma_m": src.sigma_m,
            "n_pixels": int(mask.sum()),
            "pixel_size_m": pixel,
            "background_sigma_ppm_m": background_sigma,
            **_component_fields(component_values[crop], mask, group, crop_anomaly, src_rc, plume_wind, geometry),
            **near_limit_fields(peak_sigma, sensor),
        }
        if identified is not None:  # a thermal-infrared gas map: how sure the identification of its gas is
            record["identification_confidence"] = _max_or_nan(identified[crop][mask])
        widen_for_selection_bias(record)
        result.records.append(record)
        result.outlines.append(plume_outline(mask, geometry, offset_rc=(r0, c0)))
    return result
