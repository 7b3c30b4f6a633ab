"""Forward model: surface reflectance → at-sensor radiance, with a CH4 plume absorbed at high spectral resolution.

Physics (all on one high-resolution wavelength grid, then convolved to Gaussian bands):

* **SWIR, 1399.6-2522 nm**: the mag1c LUT background row ``LUT₀(λ)`` (MODTRAN at-sensor radiance for unit
  reflectance, 0.02-0.06 nm sampling). Its units turn out physical: band-averaged ``LUT₀ / (E₀/π)`` with the bundled
  Kurucz irradiance E₀ is 0.83-0.85 in the cleanest 1.55, 1.62 and 2.13 µm windows, i.e. cos θ_ref · T_window for the reference
  geometry (overhead sun, nadir view: air-mass factor ``REFERENCE_AIRMASS_FACTOR`` = 2). We therefore use ``LUT₀``
  as µW cm⁻² sr⁻¹ nm⁻¹ and rescale it to the scene's geometry and date with the smooth (continuum) transmittance
  below: ``L₁(λ) = LUT₀(λ) · cos θs / d² · exp(-(A - A_ref) · τ_smooth(λ))``. The background gas absorption (H2O,
  CO2, CH4) keeps the LUT's reference-geometry shape (documented limitation).
* **VNIR, 350-1399.5 nm** (needed for true colour and full-range sensors): ``L₁ = E₀ cos θs / (π d²) ·
  exp(-A · τ(λ))`` with E₀ the Kurucz irradiance (boxcar-smoothed to the grid step), ``τ = 0.5 τ_Rayleigh +
  0.25 τ_aerosol + τ_gray + Σ Gaussian gas bands`` (effective optical depth of the direct + diffuse path): Rayleigh
  0.0088 λ_µm^-4.05 (Hansen & Travis 1974), aerosol 0.1 (λ/550 nm)^-1.3, a gray term fixed so the model equals the
  LUT in the clean 1550-1565 nm window (continuity, ≈ 0.085), and Gaussian optical-depth
  bands for O2-A/B and H2O (720, 820, 940, 1135, 1380 nm) of typical mid-latitude depth. Simple, smooth, defensible;
  not a radiative-transfer code.
* **Plume**: transmittance ``T(ΔX, λ) = exp(-(A / A_ref) · τ_CH4(ΔX, λ))``, with ``τ_CH4(ΔX) = -ln(LUT(ΔX)/LUT₀)``
  interpolated linearly in ΔX between the LUT's 7 levels (i.e. log-space interpolation of the radiance ratio;
  linear extrapolation of the last segment above 16,000 ppm·m). Applied on the high-resolution grid *before*
  convolution, so band saturation is real.
* **Sensor**: Gaussian band responses (:func:`plumetrace.spectra.response.gaussian_response_matrix`), built once per
  sensor as a sparse matrix.

Surface reflectance multiplies ``L₁`` on the high-resolution grid (Lambertian surface, no adjacency or path
radiance: the LUT's path radiance in the SWIR is negligible).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cached_property

import numpy as np
from scipy import sparse

from plumetrace.errors import InvalidInputError
from plumetrace.spectra.ch4_lut import REFERENCE_AIRMASS_FACTOR, load_ch4_lut
from plumetrace.spectra.response import gaussian_response_matrix
from plumetrace.spectra.solar import earth_sun_distance_au, load_solar_irradiance

__all__ = [
    "Atmosphere",
    "atmosphere",
    "smooth_optical_depth",
    "ch4_optical_depth",
    "reflectance_to_grid",
    "ForwardModel",
]

VNIR_START_NM = 350.0
VNIR_STEP_NM = 0.5
_WINDOW_NM = (1550.0, 1565.0)  # cleanest SWIR window (between the H2O and CO2 bands) anchoring the VNIR model
_AEROSOL_TAU_550 = 0.1
_ANGSTROM = 1.3
# (centre nm, Gaussian sigma nm, vertical optical depth at centre): O2-B, O2-A, H2O bands (typical mid-latitude).
_GAS_BANDS = (
    (688.0, 2.0, 0.15),
    (762.0, 3.0, 0.9),
    (720.0, 8.0, 0.06),
    (820.0, 10.0, 0.08),
    (935.0, 18.0, 0.45),
    (1135.0, 20.0, 0.5),
    (1375.0, 30.0, 2.5),
)


def smooth_optical_depth(wavelength_nm: np.ndarray, *, gray: float) -> np.ndarray:
    """Effective vertical continuum optical depth, unitless, at ``wavelength_nm``.

    ``0.5 τ_Rayleigh + 0.25 τ_aerosol + gray``: half of the Rayleigh-scattered and three quarters of the (forward-
    peaked) aerosol-scattered light still reach the surface and the sensor as diffuse light, the usual effective-
    transmittance approximation for a total (direct + diffuse) path.
    """
    wl_um = np.asarray(wavelength_nm, dtype=np.float64) / 1000.0
    rayleigh = 0.0088 * wl_um**-4.05
    aerosol = _AEROSOL_TAU_550 * (wl_um / 0.55) ** -_ANGSTROM
    return 0.5 * rayleigh + 0.25 * aerosol + gray


def _gas_band_optical_depth(wavelength_nm: np.ndarray) -> np.ndarray:
    tau = np.zeros_like(wavelength_nm, dtype=np.float64)
    for centre, sigma, depth in _GAS_BANDS:
        tau += depth * np.exp(-0.5 * ((wavelength_nm - centre) / sigma) ** 2)
    return tau


@dataclass(frozen=True)
class Atmosphere:
    """High-resolution at-sensor radiance for unit reflectance and no plume.

    wavelength_nm : (n_hr,) nm, increasing (VNIR model grid, then the LUT grid from ``swir_start``).
    radiance : (n_hr,) µW cm⁻² sr⁻¹ nm⁻¹ for a Lambertian surface of reflectance 1.
    swir_start : index of the first LUT wavelength.
    airmass_factor : two-way air-mass factor 1/cos θs + 1/cos θv.
    """

    wavelength_nm: np.ndarray
    radiance: np.ndarray
    swir_start: int
    airmass_factor: float
    solar_zenith_deg: float
    view_zenith_deg: float
    earth_sun_distance_au: float


def _window_gray_optical_depth() -> float:
    """Gray optical depth that makes the VNIR continuum model match the LUT in the 1.54-1.58 µm window."""
    lut = load_ch4_lut()
    wl_s, irr = load_solar_irradiance()
    in_lut = (lut.wavelength_nm > _WINDOW_NM[0]) & (lut.wavelength_nm < _WINDOW_NM[1])
    in_sun = (wl_s > _WINDOW_NM[0]) & (wl_s < _WINDOW_NM[1])
    ratio = lut.radiance[0, in_lut].mean() / (irr[in_sun].mean() / math.pi)  # = cos θ_ref · exp(-A_ref τ)
    tau_total = -math.log(ratio) / REFERENCE_AIRMASS_FACTOR
    centre = 0.5 * (_WINDOW_NM[0] + _WINDOW_NM[1])
    return float(tau_total - smooth_optical_depth(np.array([centre]), gray=0.0)[0])


def atmosphere(
    *, solar_zenith_deg: float = 30.0, view_zenith_deg: float = 0.0, day_of_year: int | None = None
) -> Atmosphere:
    """Build the unit-reflectance high-resolution radiance for a geometry (see module docstring).

    ``day_of_year`` sets the Earth-Sun distance (None: 1 AU).
    """
    for name, value in (("solar_zenith_deg", solar_zenith_deg), ("view_zenith_deg", view_zenith_deg)):
        if not 0.0 <= value < 85.0:
            raise InvalidInputError(name, f"{value} must lie in 0-85 degrees")
    distance = 1.0 if day_of_year is None else earth_sun_distance_au(day_of_year)
    cos_sza = math.cos(math.radians(solar_zenith_deg))
    amf = 1.0 / cos_sza + 1.0 / math.cos(math.radians(view_zenith_deg))
    gray = _window_gray_optical_depth()
    lut = load_ch4_lut()

    wl_v = np.arange(VNIR_START_NM, lut.wavelength_nm[0] - 0.05, VNIR_STEP_NM)
    wl_s, irr = load_solar_irradiance()
    n = int(round(VNIR_STEP_NM / 0.1))
    irr_smooth = np.convolve(irr, np.ones(n) / n, mode="same")
    e0 = np.interp(wl_v, wl_s, irr_smooth)
    tau_v = smooth_optical_depth(wl_v, gray=gray) + _gas_band_optical_depth(wl_v)
    rad_v = e0 * cos_sza / (math.pi * distance**2) * np.exp(-amf * tau_v)

    tau_s = smooth_optical_depth(lut.wavelength_nm, gray=gray)
    # The LUT row refers to cos θ_ref = 1 (overhead sun) and air mass A_ref.
    rad_s = lut.radiance[0] * cos_sza / distance**2 * np.exp(-(amf - REFERENCE_AIRMASS_FACTOR) * tau_s)

    wavelength = np.concatenate([wl_v, lut.wavelength_nm])
    radiance = np.concatenate([rad_v, rad_s])
    return Atmosphere(wavelength, radiance, wl_v.size, amf, float(solar_zenith_deg), float(view_zenith_deg), distance)


def ch4_optical_depth(enhancement_ppm_m: float | np.ndarray, *, airmass_factor: float) -> np.ndarray:
    """Plume CH4 optical depth on the LUT grid for column enhancements (ppm·m, ≥ 0).

    Parameters
    ----------
    enhancement_ppm_m : scalar or (m,) ppm·m.
    airmass_factor : the scene's two-way air-mass factor; optical depth scales as A / A_ref.

    Returns
    -------
    (n_lut,) or (m, n_lut) optical depth (unitless).
    """
    lut = load_ch4_lut()
    x = np.atleast_1d(np.asarray(enhancement_ppm_m, dtype=np.float64))
    if np.any(~np.isfinite(x)) or np.any(x < 0):
        raise InvalidInputError("enhancement_ppm_m", "must be finite and non-negative")
    levels = lut.enhancement_ppm_m
    tau_levels = -np.log(lut.radiance / lut.radiance[0])  # (7, n_lut)
    seg = np.clip(np.searchsorted(levels, x, side="right") - 1, 0, levels.size - 2)
    frac = (x - levels[seg]) / (levels[seg + 1] - levels[seg])
    tau = tau_levels[seg] + frac[:, None] * (tau_levels[seg + 1] - tau_levels[seg])
    tau *= airmass_factor / REFERENCE_AIRMASS_FACTOR
    return tau[0] if np.ndim(enhancement_ppm_m) == 0 else tau


def reflectance_to_grid(wavelength_nm: np.ndarray, reflectance: np.ndarray, grid_nm: np.ndarray) -> np.ndarray:
    """Linearly interpolate reflectance spectra (..., n) sampled at ``wavelength_nm`` onto ``grid_nm``.

    Values beyond the measured range are held at the nearest measured value.
    """
    wavelength_nm = np.asarray(wavelength_nm, dtype=np.float64)
    reflectance = np.asarray(reflectance, dtype=np.float64)
    flat = reflectance.reshape(-1, reflectance.shape[-1])
    out = np.empty((flat.shape[0], np.size(grid_nm)))
    for i, row in enumerate(flat):
        ok = np.isfinite(row)
        out[i] = np.interp(grid_nm, wavelength_nm[ok], row[ok])
    return out.reshape(reflectance.shape[:-1] + (np.size(grid_nm),))


class ForwardModel:
    """At-sensor band radiance for one sensor and geometry.

    Parameters
    ----------
    wavelength_nm, fwhm_nm : (n_band,) band centres and widths, nm.
    solar_zenith_deg, view_zenith_deg : degrees.
    day_of_year : sets the Earth-Sun distance (None: 1 AU).
    """

    def __init__(
        self,
        wavelength_nm: np.ndarray,
        fwhm_nm: np.ndarray,
        *,
        solar_zenith_deg: float = 30.0,
        view_zenith_deg: float = 0.0,
        day_of_year: int | None = None,
    ) -> None:
        self.wavelength_nm = np.asarray(wavelength_nm, dtype=np.float64)
        self.fwhm_nm = np.asarray(fwhm_nm, dtype=np.float64)
        self.atmosphere = atmosphere(
            solar_zenith_deg=solar_zenith_deg, view_zenith_deg=view_zenith_deg, day_of_year=day_of_year
        )
        self._set_response()

    def shifted(self, shift_nm: float) -> ForwardModel:
        """The same sensor and geometry with every band centre moved by ``shift_nm`` (nm).

        One detector column of a push-broom instrument with spectral smile: its band responses are the nominal
        Gaussians displaced by the column's shift, applied to the same high-resolution radiance (the atmosphere is
        shared, not recomputed).
        """
        if not np.isfinite(shift_nm) or abs(shift_nm) > 10.0:
            raise InvalidInputError("shift_nm", f"{shift_nm} must be finite and within ±10 nm")
        model = object.__new__(ForwardModel)
        model.wavelength_nm = self.wavelength_nm + float(shift_nm)
        model.fwhm_nm = self.fwhm_nm
        model.atmosphere = self.atmosphere
        model._set_response()
        return model

    def _set_response(self) -> None:
        dense = gaussian_response_matrix(self.atmosphere.wavelength_nm, self.wavelength_nm, self.fwhm_nm)
        self.response = sparse.csr_matrix(dense)  # (n_band, n_hr)
        # Columns of the SWIR part only (where the plume acts).
        self._response_swir = sparse.csc_matrix(self.response)[:, self.atmosphere.swir_start :].tocsr()
        self._response_vnir = sparse.csc_matrix(self.response)[:, : self.atmosphere.swir_start].tocsr()

    @property
    def grid_nm(self) -> np.ndarray:
        """(n_hr,) high-resolution wavelength grid, nm."""
        return self.atmosphere.wavelength_nm

    @property
    def airmass_factor(self) -> float:
        return self.atmosphere.airmass_factor

    @cached_property
    def unit_radiance(self) -> np.ndarray:
        """(n_band,) band radiance of a reflectance-1 surface without plume."""
        return self.response @ self.atmosphere.radiance

    def plume_transmittance(self, enhancement_ppm_m: float | np.ndarray) -> np.ndarray:
        """High-resolution plume transmittance on the SWIR part of the grid: (n_swir,) or (m, n_swir)."""
        return np.exp(-ch4_optical_depth(enhancement_ppm_m, airmass_factor=self.airmass_factor))

    def band_radiance(self, reflectance_hr: np.ndarray, enhancement_ppm_m: float = 0.0) -> np.ndarray:
        """Exact band radiance (µW cm⁻² sr⁻¹ nm⁻¹) for reflectance spectra on the grid and one enhancement.

        reflectance_hr : (..., n_hr) reflectance on :attr:`grid_nm` (see :func:`reflectance_to_grid`).
        Returns (..., n_band).
        """
        reflectance_hr = np.asarray(reflectance_hr, dtype=np.float64)
        s = self.atmosphere.swir_start
        lhr = reflectance_hr * self.atmosphere.radiance
        flat = lhr.reshape(-1, lhr.shape[-1])
        swir = flat[:, s:]
        if enhancement_ppm_m:
            swir = swir * self.plume_transmittance(float(enhancement_ppm_m))
        out = (self._response_vnir @ flat[:, :s].T).T + (self._response_swir @ swir.T).T
        return out.reshape(lhr.shape[:-1] + (self.wavelength_nm.size,))

    def level_table(self, reflectance_hr: np.ndarray, levels_ppm_m: np.ndarray) -> np.ndarray:
        """Band radiance of each reflectance spectrum at each enhancement level.

        reflectance_hr : (k, n_hr); levels_ppm_m : (m,) ppm·m.
        Returns (k, m, n_band) µW cm⁻² sr⁻¹ nm⁻¹ — exact at the levels; interpolate between them with
        :func:`plumetrace.simulate.scene.interpolate_levels`.
        """
        reflectance_hr = np.atleast_2d(np.asarray(reflectance_hr, dtype=np.float64))
        levels = np.asarray(levels_ppm_m, dtype=np.float64)
        s = self.atmosphere.swir_start
        lhr = reflectance_hr * self.atmosphere.radiance  # (k, n_hr)
        vnir = (self._response_vnir @ lhr[:, :s].T).T  # (k, n_band), unaffected by the plume
        table = np.empty((lhr.shape[0], levels.size, self.wavelength_nm.size))
        for j, level in enumerate(levels):
            swir = lhr[:, s:] * self.plume_transmittance(float(level)) if level > 0 else lhr[:, s:]
            table[:, j, :] = vnir + (self._response_swir @ swir.T).T
        return table
