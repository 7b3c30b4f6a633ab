"""Benchmark scenes: radiance cubes with known CH4 truth, written as ENVI BIL float32 files (streamed, any length).

The benchmarks need files that every tool reads the same way (ENVI BIL, float32, wavelength/fwhm in nm in the
header, µW cm⁻² sr⁻¹ nm⁻¹), from 100×100 skill scenes to a ≥ 6 GB flight line. When the project's simulator
(``plumetrace.simulate``) offers a streaming ENVI writer it could replace :func:`write_envi_bil`; until then the
benchmark uses this band-level forward model, which is deliberately simple and shared by every tool in a run:

* surface reflectance ρ(y, x, band): a mixture of bundled USGS splib07 spectra with smooth random abundance fields
  (procedural family), or the real AVIRIS Jasper Ridge reflectance cube (read from ../shared/data, never copied);
* background at-sensor radiance L₀(band) = the mag1c LUT's zero-enhancement radiance (reference geometry, air-mass
  factor 2: nadir view, overhead sun) convolved to each band, extended below 1400 nm with Kurucz irradiance;
* CH4: L = ρ·L₀·exp(k(band, c)), k = log of the band-convolved LUT ratio, interpolated in c (non-linear in c);
* per-column detector gain (push-broom flat-field residual, 0.3 % rms) and ISOFIT's parametric instrument noise a·√(b + L) + c.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from plumetrace.spectra import bundled_path
from plumetrace.spectra.ch4_lut import load_ch4_lut
from plumetrace.spectra.response import gaussian_response_matrix

__all__ = [
    "SensorBands",
    "sensor_bands",
    "ForwardModel",
    "plume_field",
    "procedural_reflectance",
    "jasper_ridge_native",
    "jasper_ridge_reflectance",
    "write_envi_header",
    "write_envi_bil",
    "stream_flight_line",
]


@dataclass(frozen=True)
class SensorBands:
    name: str
    wavelength_nm: np.ndarray
    fwhm_nm: np.ndarray
    noise_abc: np.ndarray  # (band, 3) ISOFIT noise coefficients a, b, c


def _noise_table(name: str) -> np.ndarray:
    return np.loadtxt(bundled_path(name), comments="#")


def sensor_bands(name: str) -> SensorBands:
    """EMIT (285 bands) or AVIRIS-NG (425 bands) band centres, FWHM (nm) and noise coefficients."""
    if name == "emit":
        table = _noise_table("emit_noise.txt")
        wl = table[:, 0]
        fwhm = np.gradient(wl) * 1.15  # EMIT FWHM ≈ 8.5 nm at 7.4 nm sampling
        noise = np.interp(wl, table[:, 0], table[:, 1]), np.interp(wl, table[:, 0], table[:, 2]), table[:, 3]
        return SensorBands("emit", wl, fwhm, np.stack(noise, axis=1))
    if name in ("aviris-ng", "avirisng"):
        cal = np.loadtxt(bundled_path("avirisng_wavelength_fit.txt"))
        wl, fwhm = cal[:, 1] * 1000.0, cal[:, 2] * 1000.0
        table = _noise_table("avirisng_noise.txt")
        noise = [np.interp(wl, table[:, 0], table[:, i]) for i in (1, 2, 3)]
        return SensorBands("aviris-ng", wl, fwhm, np.stack(noise, axis=1))
    raise ValueError(f"unknown sensor {name!r}")


class ForwardModel:
    """Band-level radiance model for one sensor (see the module docstring)."""

    def __init__(self, bands: SensorBands) -> None:
        self.bands = bands
        lut = load_ch4_lut()
        wl_hr = lut.wavelength_nm
        response = gaussian_response_matrix(wl_hr, bands.wavelength_nm, bands.fwhm_nm)
        inside = response.sum(axis=1) > 0.99
        lut_bands = lut.radiance @ response.T  # (level, band)
        # Below the LUT (< 1400 nm): Kurucz irradiance, cos(0)/π, scaled to meet the LUT at its short end.
        with np.load(bundled_path("kurucz_solar_irradiance.npz")) as k:
            e_sun = np.interp(bands.wavelength_nm, k["wavelength_nm"], k["irradiance_mW_m2_nm"]) * 0.1 / math.pi
        # Match in the clear 1550-1650 nm window (the LUT starts inside the 1400 nm water band).
        clear = inside & (bands.wavelength_nm > 1550.0) & (bands.wavelength_nm < 1650.0)
        scale = float(np.median(lut_bands[0, clear] / e_sun[clear]))
        l0 = np.where(inside, lut_bands[0], e_sun * scale)
        ratio = np.where(inside[None, :], lut_bands / np.where(lut_bands[0] > 0, lut_bands[0], 1.0), 1.0)
        self.l0 = l0.astype(np.float64)
        self.levels_ppm_m = lut.enhancement_ppm_m.astype(np.float64)
        self.log_ratio = np.log(np.clip(ratio, 1e-6, None))  # (level, band)
        # Per-band unit-absorption target (d ln L / dc at small c), per ppm·m: what SPy's target is built from.
        self.unit_absorption_per_ppm_m = self.log_ratio[1] / self.levels_ppm_m[1]

    def log_transmittance(self, enhancement_ppm_m: np.ndarray) -> np.ndarray:
        """ln(L_c / L_0) for each pixel: (..., band), piecewise linear in c between LUT levels."""
        c = np.clip(np.asarray(enhancement_ppm_m, dtype=np.float64), 0.0, self.levels_ppm_m[-1])
        idx = np.clip(np.searchsorted(self.levels_ppm_m, c, side="right") - 1, 0, len(self.levels_ppm_m) - 2)
        lo, hi = self.levels_ppm_m[idx], self.levels_ppm_m[idx + 1]
        w = ((c - lo) / (hi - lo))[..., None]
        return (1.0 - w) * self.log_ratio[idx] + w * self.log_ratio[idx + 1]

    def radiance(
        self,
        reflectance: np.ndarray,
        enhancement_ppm_m: np.ndarray,
        *,
        column_gain: np.ndarray | None = None,
        rng: np.random.Generator,
    ) -> np.ndarray:
        """Noisy at-sensor radiance (y, x, band) float32 from reflectance (y, x, band) and truth (y, x)."""
        lin = reflectance * self.l0
        plume = enhancement_ppm_m > 0
        if np.any(plume):
            lin[plume] *= np.exp(self.log_transmittance(enhancement_ppm_m[plume]))
        if column_gain is not None:
            lin *= column_gain[None, :, :]
        a, b, c = self.bands.noise_abc.T
        sigma = a * np.sqrt(np.clip(b + lin, 0.0, None)) + c
        lin += sigma * rng.standard_normal(lin.shape, dtype=np.float32)
        return lin.astype(np.float32)


def _smooth_field(shape: tuple[int, int], scale_px: float, rng: np.random.Generator) -> np.ndarray:
    from scipy.ndimage import gaussian_filter

    field = gaussian_filter(rng.standard_normal(shape), sigma=scale_px, mode="wrap")
    return (field - field.mean()) / (field.std() + 1e-12)


# Green and dry vegetation, clay and carbonate soils (calcite's 2340 nm band is a known CH4 confuser).
_ENDMEMBER_RULES = (
    "vegetation_green",
    "dry_veg_grass",
    "dry_veg_nongrass",
    "montmorillonite_Ca",
    "kaolinite_wxl",
    "calcite",
)


def _endmembers(wavelength_nm: np.ndarray) -> np.ndarray:
    with np.load(bundled_path("usgs_splib07_77_1nm.npz")) as lib:
        grid_nm, spectra, rule = lib["grid"] * 1000.0, lib["spectra"], lib["rule"]
    chosen = []
    for wanted in _ENDMEMBER_RULES:
        for i in np.flatnonzero(rule == wanted):
            s = spectra[i]
            if np.isfinite(s).sum() > 0.9 * s.size and i not in chosen:
                chosen.append(i)
                break
    out = []
    for i in chosen:
        s, ok = spectra[i], np.isfinite(spectra[i])
        out.append(np.interp(wavelength_nm, grid_nm[ok], s[ok]))
    return np.clip(np.array(out), 0.01, 1.0)  # (member, band)


def procedural_reflectance(
    shape: tuple[int, int], wavelength_nm: np.ndarray, *, rng: np.random.Generator, rows: slice | None = None
) -> np.ndarray:
    """Reflectance (y, x, band): smooth random mixtures of USGS endmembers (soil, vegetation, urban, rock)."""
    members = _endmembers(wavelength_nm)
    fields = np.stack([_smooth_field(shape, 6.0 + 4 * i, rng) for i in range(len(members))], axis=-1)
    abundance = np.exp(1.2 * fields)
    abundance /= abundance.sum(axis=-1, keepdims=True)
    if rows is not None:
        abundance = abundance[rows]
    brightness = 0.8 + 0.2 * np.tanh(_smooth_field(shape, 3.0, rng))[..., None]
    if rows is not None:
        brightness = brightness[rows]
    return (abundance @ members) * brightness


def jasper_ridge_native(shared_data: Path, *, smooth_bands: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """The real AVIRIS Jasper Ridge reflectance (100, 100, 198) on its own bands (nm, ascending); read, never copied.

    The .mat holds reflectance × 1e4 for 198 AVIRIS channels (water bands removed); band centres come from the
    AVIRIS 92AV3C calibration table by channel number (see swir-scenes/SOURCE.md). The cube carries its own
    1990s-AVIRIS noise (band-to-band scatter ≈ 0.0035 reflectance, ≈ 4 % of the 2.1–2.45 µm mean, more than the
    simulated sensor adds and as large as a 1000 ppm·m CH4 signal), so each spectrum is smoothed across bands with a
    Gaussian of ``smooth_bands`` source bands (≈ 10 nm; 0 keeps the raw cube) within each contiguous segment:
    real spatial and mineral/vegetation structure stays, the old sensor's noise mostly goes.
    """
    from scipy.io import loadmat

    folder = shared_data / "swir-scenes"
    mat = loadmat(folder / "jasper-ridge" / "jasperRidge2_R198.mat")
    cube = np.reshape(mat["Y"].T.astype(np.float64), (100, 100, 198), order="F") / 1e4
    channels = np.asarray(mat["SlectBands"]).ravel().astype(int)
    spc = np.loadtxt(folder / "indian-pines-bands" / "92AV3C.spc", skiprows=2)
    # Channel numbers missing from the table (detector overlaps) are interpolated in channel number.
    src_wl = np.interp(channels, spc[:, 4], spc[:, 0])
    order = np.argsort(src_wl)
    src_wl, cube = src_wl[order], cube[..., order]
    if smooth_bands > 0:
        from scipy.ndimage import gaussian_filter1d

        breaks = np.flatnonzero(np.diff(src_wl) > 15.0) + 1  # removed water bands split the spectrum
        for seg in np.split(np.arange(src_wl.size), breaks):
            cube[..., seg] = gaussian_filter1d(cube[..., seg], smooth_bands, axis=-1, mode="nearest")
    return np.clip(cube, 0.005, 1.0), src_wl


def jasper_ridge_reflectance(wavelength_nm: np.ndarray, *, shared_data: Path, smooth_bands: float = 1.0) -> np.ndarray:
    """Jasper Ridge reflectance (100, 100, band) resampled to ``wavelength_nm`` (see :func:`jasper_ridge_native`)."""
    cube, src_wl = jasper_ridge_native(shared_data, smooth_bands=smooth_bands)
    flat = cube.reshape(-1, cube.shape[-1])
    out = np.empty((flat.shape[0], wavelength_nm.size))
    for i, spectrum in enumerate(flat):
        out[i] = np.interp(wavelength_nm, src_wl, spectrum)
    return np.clip(out.reshape(100, 100, -1), 0.005, 1.0)


def plume_field(
    shape: tuple[int, int], peaks_ppm_m: list[float], *, rng: np.random.Generator, length_px: float = 14.0
) -> np.ndarray:
    """Truth (y, x) ppm·m: one elongated, turbulent-edged plume per peak value, spread over the scene."""
    ny, nx = shape
    truth = np.zeros(shape)
    n = len(peaks_ppm_m)
    cols = max(1, int(math.ceil(math.sqrt(n))))
    rows = int(math.ceil(n / cols))
    yy, xx = np.mgrid[0:ny, 0:nx].astype(np.float64)
    for k, peak in enumerate(peaks_ppm_m):
        cy = (k // cols + 0.5) * ny / rows
        cx = (k % cols + 0.3) * nx / cols
        theta = rng.uniform(-0.5, 0.5)
        dx, dy = xx - cx, yy - cy
        along = dx * math.cos(theta) + dy * math.sin(theta)
        across = -dx * math.sin(theta) + dy * math.cos(theta)
        width = 1.5 + 0.25 * np.clip(along, 0, None)
        shape_ = np.exp(-0.5 * (across / width) ** 2) * np.exp(-np.clip(along, 0, None) / length_px)
        shape_ *= np.exp(-0.5 * (np.clip(-along, 0, None) / 1.5) ** 2)  # sharp upwind edge at the source
        truth += peak * shape_
    truth[truth < 10.0] = 0.0
    return truth


def write_envi_header(
    path: Path,
    *,
    lines: int,
    samples: int,
    wavelength_nm: np.ndarray,
    fwhm_nm: np.ndarray,
    description: str,
    sensor: str = "emit",
) -> None:
    wl = ", ".join(f"{w:.4f}" for w in wavelength_nm)
    fw = ", ".join(f"{f:.4f}" for f in fwhm_nm)
    path.write_text(
        "ENVI\n"
        f"description = {{{description}}}\n"
        f"samples = {samples}\nlines = {lines}\nbands = {len(wavelength_nm)}\nheader offset = 0\n"
        "file type = ENVI Standard\ndata type = 4\ninterleave = bil\nbyte order = 0\n"
        f"sensor type = {sensor.upper()}\n"
        "data units = uW cm-2 sr-1 nm-1\n"
        "wavelength units = Nanometers\n"
        "data ignore value = -9999\n"
        f"wavelength = {{{wl}}}\nfwhm = {{{fw}}}\n"
    )


def write_envi_bil(path: Path, cube: np.ndarray, bands: SensorBands, *, description: str = "plumetrace bench") -> Path:
    """Write a (y, x, band) float32 cube as ENVI BIL (``path`` is the data file; header at ``path + '.hdr'``)."""
    path = Path(path)
    write_envi_header(
        Path(f"{path}.hdr"),
        lines=cube.shape[0],
        samples=cube.shape[1],
        wavelength_nm=bands.wavelength_nm,
        fwhm_nm=bands.fwhm_nm,
        description=description,
        sensor=bands.name,
    )
    np.ascontiguousarray(np.transpose(cube, (0, 2, 1)), dtype="<f4").tofile(path)
    return path


def stream_flight_line(
    path: Path,
    *,
    lines: int,
    samples: int,
    sensor: str = "emit",
    seed: int = 0,
    block_lines: int = 64,
    plume_peaks_ppm_m: tuple[float, ...] = (500.0, 1500.0, 4000.0),
    progress: Callable[[int, int], None] | None = None,
) -> Path:
    """Write a long procedural flight line block by block (memory stays at one block); reuse it when present.

    The file is written under a temporary name and renamed at the end, so an interrupted run leaves no file that
    looks complete.
    """
    path = Path(path)
    hdr = Path(f"{path}.hdr")
    bands = sensor_bands(sensor)
    expected = lines * samples * bands.wavelength_nm.size * 4
    if path.exists() and hdr.exists() and path.stat().st_size == expected:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    model = ForwardModel(bands)
    rng = np.random.default_rng(seed)
    gain = 1.0 + 0.003 * rng.standard_normal((samples, bands.wavelength_nm.size))
    tile = 256  # reflectance texture repeats every 256 lines (generation cost stays bounded)
    texture = procedural_reflectance((tile, samples), bands.wavelength_nm, rng=rng).astype(np.float32)
    truth_tile = plume_field((tile, samples), list(plume_peaks_ppm_m), rng=rng, length_px=25.0)
    tmp = path.with_name(path.name + ".partial")
    with open(tmp, "wb") as fh:
        for start in range(0, lines, block_lines):
            stop = min(lines, start + block_lines)
            idx = np.arange(start, stop) % tile
            refl = texture[idx].astype(np.float64)
            truth = truth_tile[idx] if (start // tile) % 2 == 0 else np.zeros((stop - start, samples))
            cube = model.radiance(refl, truth, column_gain=gain, rng=rng)
            fh.write(np.ascontiguousarray(np.transpose(cube, (0, 2, 1)), dtype="<f4").tobytes())
            if progress is not None:
                progress(stop, lines)
    os.replace(tmp, path)
    write_envi_header(
        hdr,
        lines=lines,
        samples=samples,
        wavelength_nm=bands.wavelength_nm,
        fwhm_nm=bands.fwhm_nm,
        description=f"plumetrace benchmark flight line, {sensor}, seed {seed}",
        sensor=bands.name,
    )
    return path


def iter_blocks(total: int, block: int) -> Iterator[tuple[int, int]]:
    for start in range(0, total, block):
        yield start, min(total, start + block)
