"""Sensor spectral response: convolve high-resolution spectra to Gaussian bands."""

from __future__ import annotations

import numpy as np
from scipy import sparse

from plumetrace.errors import InvalidInputError

__all__ = ["gaussian_response_matrix", "convolve_to_bands"]

_FWHM_TO_SIGMA = 1.0 / (2.0 * np.sqrt(2.0 * np.log(2.0)))


def gaussian_response_matrix(
    wavelength_hr_nm: np.ndarray, band_centres_nm: np.ndarray, fwhm_nm: np.ndarray, *, truncate_sigma: float = 4.0
) -> np.ndarray:
    """Normalised Gaussian spectral response of each band sampled on a high-resolution grid.

    Parameters
    ----------
    wavelength_hr_nm : (n_hr,) increasing, possibly non-uniform grid (nm).
    band_centres_nm, fwhm_nm : (n_band,) nm.

    Returns
    -------
    (n_band, n_hr) float64 weights; each row sums to 1 over the grid (trapezoid weights, so a non-uniform grid
    is integrated correctly). Bands whose response lies outside the grid get a zero row.
    """
    wl = np.asarray(wavelength_hr_nm, dtype=np.float64)
    centres = np.asarray(band_centres_nm, dtype=np.float64)
    fwhm = np.asarray(fwhm_nm, dtype=np.float64)
    if centres.shape != fwhm.shape:
        raise InvalidInputError("fwhm", f"{fwhm.size} values for {centres.size} band centres")
    if np.any(fwhm <= 0):
        raise InvalidInputError("fwhm", "must be positive")
    sigma = fwhm * _FWHM_TO_SIGMA
    # Trapezoid quadrature weights of the (non-uniform) grid.
    dw = np.empty_like(wl)
    dw[1:-1] = 0.5 * (wl[2:] - wl[:-2])
    dw[0] = 0.5 * (wl[1] - wl[0])
    dw[-1] = 0.5 * (wl[-1] - wl[-2])
    matrix = np.zeros((centres.size, wl.size))
    for i, (c, s) in enumerate(zip(centres, sigma)):
        lo, hi = np.searchsorted(wl, [c - truncate_sigma * s, c + truncate_sigma * s])
        if hi - lo < 2:
            continue
        w = np.exp(-0.5 * ((wl[lo:hi] - c) / s) ** 2) * dw[lo:hi]
        matrix[i, lo:hi] = w / w.sum()
    return matrix


def convolve_to_bands(
    wavelength_hr_nm: np.ndarray, spectra_hr: np.ndarray, band_centres_nm: np.ndarray, fwhm_nm: np.ndarray
) -> np.ndarray:
    """Band-average high-resolution spectra (..., n_hr) with Gaussian responses; returns (..., n_band).

    Bands outside the high-resolution grid come back as NaN.
    """
    matrix = gaussian_response_matrix(wavelength_hr_nm, band_centres_nm, fwhm_nm)
    spectra = np.asarray(spectra_hr, dtype=np.float64)
    # The response matrix is ~99 % zeros: a sparse product is ~200x faster than the dense (..., n_hr) @ (n_hr, n_band),
    # which OpenBLAS handles badly for this shape.
    flat = spectra.reshape(-1, spectra.shape[-1])
    out = np.asarray((sparse.csr_matrix(matrix) @ flat.T).T).reshape(*spectra.shape[:-1], matrix.shape[0])
    out[..., matrix.sum(axis=1) == 0] = np.nan
    return out
