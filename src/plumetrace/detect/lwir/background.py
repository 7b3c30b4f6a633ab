"""Background of an LWIR scene: surface temperature and emissivity (TES), thermal contrast, blind pixels, clutter.

Radiance model (thin plume layer near the ground, under an atmosphere of transmittance τ and path radiance L_path
between the plume and the sensor; see docs/lwir.md):

``L_obs = τ [L_s e^{-k} + B(T_p) (1 - e^{-k})] + L_path``, with ``k(λ) = Σ_g α_g(λ) c_g``,

where ``L_s`` is the radiance leaving the surface (emission plus reflected sky) and ``B(T_p)`` the Planck radiance of
the plume. The surface-leaving radiance estimated from the observed pixel, ``L̂_s = (L_obs − L_path)/τ``, includes the
plume: ``L̂_s = L_s e^{-k} + B (1 - e^{-k})``, so the *observed contrast* ``D = B(T_p) − L̂_s = (B − L_s) e^{-k}``
and the plume signal is exactly ``ΔL = τ D (e^{k} − 1)`` (≈ ``τ D k`` for a thin plume). The filters use ``τ D α_g`` as
each pixel's own target: the target scales with the thermal contrast, and a pixel with no contrast has no signal.

Temperature-emissivity separation is the normalised emissivity method (Gillespie 1985): the largest emissivity over
the channels is ``emissivity_max`` (0.985 by default: vegetation, water and most soils reach it), which fixes the
surface temperature; reflected sky radiance is neglected (it lowers the emissivity contrast a little; the plume's
contrast is taken from the observed radiance itself, so the neglect does not bias the columns).

The clutter (surface temperature and emissivity variation, sensor noise) is described by a mean and covariance per
scene or per spectral class (k-means on the emissivity shape); whitening with the Cholesky factor of the class's
covariance turns it into unit white noise for the filters and the identification.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from plumetrace.spectra.thermal import brightness_temperature, planck_radiance

__all__ = [
    "ClutterStatistics",
    "SurfaceEstimate",
    "clutter_statistics",
    "estimate_plume_temperature",
    "separate_temperature_emissivity",
    "whiten",
]

#: Ridge added to each covariance, as a fraction of its mean diagonal (keeps it invertible with few pixels).
RIDGE_FRACTION = 1e-4
#: Pixels a class needs per channel to estimate its covariance.
PIXELS_PER_BAND = 3
#: Outlier-trimming rounds of each class's statistics, and the largest fraction of its pixels trimmed per round.
TRIM_ROUNDS = 2
TRIM_FRACTION = 0.1


@dataclass(frozen=True)
class SurfaceEstimate:
    """TES result for valid pixels.

    Attributes
    ----------
    surface_radiance : ndarray (n_pix, n_band)
        Surface-leaving radiance ``L̂_s = (L_obs − L_path)/τ``, scene radiance units.
    temperature_k : ndarray (n_pix,)
        Surface temperature from the normalised emissivity method, K.
    emissivity : ndarray (n_pix, n_band)
        Emissivity ``L̂_s / B(T)`` (≤ ``emissivity_max`` by construction).
    brightness_k : ndarray (n_pix,)
        Channel mean of the brightness temperature of ``L̂_s``, K.
    """

    surface_radiance: np.ndarray
    temperature_k: np.ndarray
    emissivity: np.ndarray
    brightness_k: np.ndarray


def separate_temperature_emissivity(
    radiance: np.ndarray,
    wavelength_nm: np.ndarray,
    *,
    transmittance: np.ndarray | None = None,
    path_radiance: np.ndarray | None = None,
    emissivity_max: float = 0.985,
) -> SurfaceEstimate:
    """Normalised-emissivity temperature-emissivity separation of pixels.

    Parameters
    ----------
    radiance : ndarray (n_pix, n_band)
        At-sensor radiance, µW cm⁻² sr⁻¹ nm⁻¹.
    wavelength_nm : ndarray (n_band,)
        Channel centres, nm.
    transmittance, path_radiance : ndarray (n_band,), optional
        Atmosphere between the surface and the sensor (default: τ = 1, no path radiance: a low flight).
    emissivity_max : float
        Largest emissivity over the channels.

    Returns
    -------
    SurfaceEstimate
    """
    radiance = np.asarray(radiance, dtype=np.float64)
    wl = np.asarray(wavelength_nm, dtype=np.float64)
    tau = np.ones_like(wl) if transmittance is None else np.asarray(transmittance, dtype=np.float64)
    path = np.zeros_like(wl) if path_radiance is None else np.asarray(path_radiance, dtype=np.float64)
    surface = (radiance - path) / tau
    # Channels the atmosphere leaves open decide the temperature (opaque ones amplify noise by 1/τ).
    open_channels = tau >= 0.5 * tau.max()
    bt = brightness_temperature(wl[open_channels], np.maximum(surface[:, open_channels], 1e-12) / emissivity_max)
    temperature = np.max(np.asarray(bt, dtype=np.float64), axis=1)
    blackbody = np.asarray(planck_radiance(wl, temperature[:, None]), dtype=np.float64)
    emissivity = surface / blackbody
    with np.errstate(invalid="ignore"):
        brightness = np.nanmean(np.asarray(brightness_temperature(wl, np.maximum(surface, 1e-12))), axis=1)
    return SurfaceEstimate(surface, temperature, emissivity, brightness)


def estimate_plume_temperature(surface: SurfaceEstimate, *, air_offset_k: float = 0.0) -> float:
    """The stated assumption for the plume temperature: the near-surface air temperature, taken as the median
    surface temperature of the scene less ``air_offset_k``, K."""
    return float(np.median(surface.temperature_k) - air_offset_k)


@dataclass(frozen=True)
class ClutterStatistics:
    """Mean and whitening of each class.

    Attributes
    ----------
    classes : ndarray (n_pix,) int
        Class of each valid pixel (0 … n_class − 1).
    mean : ndarray (n_class, n_band)
        Class mean radiance.
    whitening : ndarray (n_class, n_band, n_band)
        ``L⁻¹`` of the class covariance ``C = L Lᵀ`` (so ``|L⁻¹ d|² = dᵀ C⁻¹ d``).
    n_pixels : ndarray (n_class,)
        Pixels that estimated each class.
    """

    classes: np.ndarray
    mean: np.ndarray
    whitening: np.ndarray
    n_pixels: np.ndarray


def _classes(features: np.ndarray, n_classes: int, seed: int) -> np.ndarray:
    from scipy.cluster.vq import kmeans2

    if n_classes <= 1 or features.shape[0] < 2 * n_classes:
        return np.zeros(features.shape[0], dtype=int)
    centred = features - features.mean(axis=0)
    # Principal components of the emissivity shape: k-means on a handful of dimensions is stable.
    _, _, vt = np.linalg.svd(centred[:: max(1, centred.shape[0] // 4000)], full_matrices=False)
    scores = centred @ vt[: min(5, vt.shape[0])].T
    _, labels = kmeans2(scores, n_classes, minit="++", seed=seed)
    return labels.astype(int)


def clutter_statistics(
    radiance: np.ndarray,
    emissivity: np.ndarray,
    *,
    n_classes: int = 1,
    exclude: np.ndarray | None = None,
    seed: int = 0,
) -> ClutterStatistics:
    """Clutter mean and whitening per scene (``n_classes=1``) or per spectral class.

    Parameters
    ----------
    radiance : ndarray (n_pix, n_band)
        At-sensor radiance of the valid pixels.
    emissivity : ndarray (n_pix, n_band)
        TES emissivity of the same pixels (the classes are clusters of its shape).
    n_classes : int
        Classes asked; fewer when a class would hold fewer than ``PIXELS_PER_BAND`` × bands pixels.
    exclude : ndarray (n_pix,) bool, optional
        Pixels kept out of the statistics (the plumes of a first pass); they still get a class.
    seed : int
        Seed of k-means (the result is reproducible).

    Returns
    -------
    ClutterStatistics
    """
    from scipy.stats import chi2

    radiance = np.asarray(radiance, dtype=np.float64)
    n_pix, n_band = radiance.shape
    keep = np.ones(n_pix, dtype=bool) if exclude is None else ~np.asarray(exclude, dtype=bool)
    need = PIXELS_PER_BAND * n_band
    k = int(max(1, min(n_classes, keep.sum() // need)))
    shape = emissivity / np.maximum(emissivity.mean(axis=1, keepdims=True), 1e-12)
    classes = _classes(shape, k, seed)
    # Merge classes too small to estimate into the nearest large one (by mean shape).
    counts = np.bincount(classes[keep], minlength=k)
    large = np.flatnonzero(counts >= need)
    if large.size == 0:
        classes[:] = 0
        large = np.array([0])
    else:
        centres = np.stack(
            [shape[classes == c].mean(axis=0) if np.any(classes == c) else shape.mean(0) for c in range(k)]
        )
        for c in range(k):
            if c not in large:
                nearest = large[np.argmin(np.linalg.norm(centres[large] - centres[c], axis=1))]
                classes[classes == c] = nearest
    remap = {int(c): i for i, c in enumerate(large)}
    classes = np.array([remap[int(c)] for c in classes], dtype=int) if k > 1 else np.zeros(n_pix, dtype=int)
    n_class = len(remap)
    mean = np.zeros((n_class, n_band))
    whitening = np.zeros((n_class, n_band, n_band))
    n_pixels = np.zeros(n_class, dtype=int)
    for c in range(n_class):
        member = (classes == c) & keep
        x = radiance[member]
        for _ in range(TRIM_ROUNDS + 1):
            mu = x.mean(axis=0)
            d = x - mu
            cov = d.T @ d / max(1, x.shape[0] - 1)
            cov[np.diag_indices(n_band)] += RIDGE_FRACTION * np.trace(cov) / n_band
            chol = np.linalg.cholesky(cov)
            inv = np.linalg.solve(chol, np.eye(n_band))
            if _ == TRIM_ROUNDS:
                break
            # Trim the outliers (plumes, hot spots) of the class: Mahalanobis distance above the χ² 99.9 %
            # quantile, at most TRIM_FRACTION of the pixels, never below PIXELS_PER_BAND × bands.
            white = d @ inv.T
            d2 = np.einsum("pb,pb->p", white, white)
            limit = max(chi2.ppf(0.999, n_band), np.quantile(d2, 1.0 - TRIM_FRACTION))
            trimmed = member.copy()
            trimmed[np.flatnonzero(member)[d2 > limit]] = False
            if trimmed.sum() < need:
                break
            member = trimmed
            x = radiance[member]
        mean[c] = mu
        whitening[c] = inv
        n_pixels[c] = int(x.shape[0])
    return ClutterStatistics(classes, mean, whitening, n_pixels)


def whiten(values: np.ndarray, statistics: ClutterStatistics, classes: np.ndarray | None = None) -> np.ndarray:
    """Apply each pixel's class whitening ``L⁻¹`` to ``values`` (n_pix, …, n_band); ``classes`` defaults to the
    statistics' own (one per valid pixel)."""
    classes = statistics.classes if classes is None else classes
    out = np.empty_like(values, dtype=np.float64)
    n_band = values.shape[-1]
    if statistics.whitening.shape[0] == 1:  # one GEMM over everything (a 3-D matmul loops over small ones)
        return (values.reshape(-1, n_band) @ statistics.whitening[0].T).reshape(values.shape)
    for c in range(statistics.whitening.shape[0]):
        member = classes == c
        if member.any():
            part = values[member]
            out[member] = (part.reshape(-1, n_band) @ statistics.whitening[c].T).reshape(part.shape)
    return out
