"""Spectral classes for cluster-tuned matched-filter statistics (Funk et al. 2001, IEEE TGRS 39:1410).

A Gaussian background fitted to a heterogeneous scene reads a minority surface's spectrum as gas: its departure
from the scene mean projects onto the target. Class-wise statistics give each spectral class its own mean and
covariance, and each pixel is filtered with its class's. This module holds the clustering alone; the engine's
streaming passes for ``stats="cluster"`` are in :mod:`plumetrace.detect.cluster_engine`.

Features (:class:`ClusterModel`): by default the *shape* of the log-radiance spectrum,

``z = P ᵀ (log x − mean_b(log x) − t (tᵀ(·)/tᵀt))``,

i.e. log-radiance with its band mean removed (an albedo factor ``x → a x`` adds ``log a`` to every band, so the
classes do not split a surface by brightness) and with the target direction ``t`` (the unit absorption ``k``, band
mean removed) projected out. Under Beer–Lambert ``log x = log x₀ + k ΔX``, so a plume moves a pixel exactly along
``k`` in log space: with ``k`` projected out, a pixel lands in the same class whatever its enhancement, and a plume
can never form a class of its own (which would put it in its class mean and null it). ``P`` holds the leading
principal components (``n_features``) of the projected features of the fit sample. ``features="radiance"`` clusters
the principal components of the raw window radiance instead (kept for the comparison in docs/detect.md).

Classes are fitted by k-means (:func:`scipy.cluster.vq.kmeans2`, k-means++ seeding, a few restarts, fixed seed) on
a subsample of the scene's valid pixels. A class with too few pixels for a covariance is merged into the nearest
adequate class (:func:`merge_small_classes`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from plumetrace.errors import InvalidInputError

__all__ = [
    "FEATURES",
    "DEFAULT_MAX_CLUSTERS",
    "PIXELS_PER_CLASS_BAND",
    "N_FEATURES",
    "MAX_FIT_PIXELS",
    "ClusterModel",
    "min_class_pixels",
    "auto_clusters",
    "check_clusters",
    "fit_clusters",
    "merge_small_classes",
]

FEATURES = ("shape", "radiance")
#: Most classes ``clusters=None`` picks (more rarely help: each class's covariance needs its own pixels).
DEFAULT_MAX_CLUSTERS = 4
#: Valid pixels per window band a class needs (as :data:`plumetrace.detect.matched_filter.ROWS_PER_BAND` for a column).
PIXELS_PER_CLASS_BAND = 4
#: ``clusters=None`` asks for this many times the minimum pixels per class (classes are rarely equal in size).
_AUTO_MARGIN = 5
#: Principal components the classes are fitted in.
N_FEATURES = 8
#: Valid pixels the classes are fitted on (a subsample of evenly spaced lines).
MAX_FIT_PIXELS = 20_000
_RESTARTS = 2
_KMEANS_ITER = 30
_KMEANS_TOLERANCE = 1e-3
_LOG_FLOOR = 1e-3  # of the pixel's mean window radiance: dark or negative noisy bands before the logarithm


def min_class_pixels(n_band: int) -> int:
    """Fewest valid pixels a class needs for its own statistics (``PIXELS_PER_CLASS_BAND × n_band``)."""
    return PIXELS_PER_CLASS_BAND * int(n_band)


def auto_clusters(n_valid: int, n_band: int) -> int:
    """Default number of classes: up to :data:`DEFAULT_MAX_CLUSTERS`, each with several times the minimum pixels.

    Parameters
    ----------
    n_valid : int
        Valid pixels in the scene (or an estimate).
    n_band : int
        Bands in the spectral window.
    """
    return int(max(1, min(DEFAULT_MAX_CLUSTERS, n_valid // (_AUTO_MARGIN * min_class_pixels(n_band)))))


def check_clusters(clusters: int | None, n_valid: int, n_band: int) -> int:
    """The number of classes to fit: ``clusters`` checked against the valid pixels, or :func:`auto_clusters`.

    Raises
    ------
    InvalidInputError
        ``clusters`` below 1 or not a whole number, or more classes than the valid pixels can give statistics
        (each needs :func:`min_class_pixels`).
    """
    need = min_class_pixels(n_band)
    if clusters is None:
        if n_valid < need:
            raise InvalidInputError(
                "clusters", f"the scene has {n_valid} valid pixels; one class needs at least {need}"
            )
        return auto_clusters(n_valid, n_band)
    if isinstance(clusters, bool) or not isinstance(clusters, (int, np.integer)) or clusters < 1:
        raise InvalidInputError("clusters", f"{clusters!r}; expected a whole number ≥ 1")
    if int(clusters) * need > n_valid:
        raise InvalidInputError(
            "clusters",
            f"{int(clusters)} classes need at least {int(clusters) * need} valid pixels ({need} each for {n_band} "
            f"window bands); the scene has {n_valid}: use fewer classes",
        )
    return int(clusters)


@dataclass
class ClusterModel:
    """Spectral classes: a feature transform and the class centroids in feature space.

    Attributes
    ----------
    features : {"shape", "radiance"}
        ``shape``: log-radiance, band mean and target direction removed; ``radiance``: the window radiance.
    centre : ndarray (n_band,) float64
        Mean feature vector of the fit sample (subtracted before projecting).
    basis : ndarray (n_band, n_features) float64
        Principal axes (orthonormal columns); for ``shape`` orthogonal to the target direction.
    centroids : ndarray (n_class, n_features) float64
    target_direction : ndarray (n_band,) float64
        Unit vector projected out of ``shape`` features (zeros for ``radiance``).
    """

    features: str
    centre: np.ndarray
    basis: np.ndarray
    centroids: np.ndarray
    target_direction: np.ndarray

    @property
    def n_class(self) -> int:
        return int(self.centroids.shape[0])

    def transform(self, spectra: np.ndarray) -> np.ndarray:
        """Features (n, n_features) float32 of spectra (n, n_band) (radiance, any positive scale)."""
        z = _raw_features(spectra, self.features)
        z -= self.centre.astype(np.float32)
        return z @ self.basis.astype(np.float32)

    def assign(self, spectra: np.ndarray) -> np.ndarray:
        """Class (n,) int64 of each spectrum (n, n_band): the nearest centroid in feature space."""
        z = self.transform(spectra)
        c = self.centroids.astype(np.float32)
        # ‖z − c‖² = ‖z‖² − 2 z·c + ‖c‖²; ‖z‖² is the same for every class.
        distance = (c * c).sum(axis=1)[None, :] - 2.0 * (z @ c.T)
        return np.argmin(distance, axis=1).astype(np.int64)


def _raw_features(spectra: np.ndarray, features: str, target_direction: np.ndarray | None = None) -> np.ndarray:
    x = np.asarray(spectra, dtype=np.float32)
    if features == "radiance":
        return x.copy()
    level = np.maximum(x.mean(axis=1, keepdims=True), np.float32(1e-30))
    z = np.log(np.maximum(x, np.float32(_LOG_FLOOR) * level))
    z -= z.mean(axis=1, keepdims=True)
    return z


def fit_clusters(
    spectra: np.ndarray,
    unit_absorption: np.ndarray,
    *,
    n_clusters: int,
    features: str = "shape",
    n_features: int = N_FEATURES,
    seed: int = 0,
) -> ClusterModel:
    """Fit spectral classes to a sample of valid pixels.

    Parameters
    ----------
    spectra : ndarray (n, n_band)
        Window radiance of the sample pixels (valid only; any radiance unit).
    unit_absorption : ndarray (n_band,)
        Target unit absorption ``k`` (per ppm·m): its direction is projected out of ``shape`` features.
    n_clusters : int, keyword-only
        Classes to fit (≥ 1; fewer come back when the sample has fewer distinct spectra).
    features : {"shape", "radiance"}, keyword-only
    n_features : int, keyword-only
        Principal components kept.
    seed : int, keyword-only
        Seed of the k-means++ initialisation (the result is deterministic for a given sample).

    Returns
    -------
    ClusterModel
    """
    from scipy.cluster.vq import kmeans2  # lazy: start-up time

    if features not in FEATURES:
        raise InvalidInputError("cluster_features", f"{features!r}; expected one of {', '.join(FEATURES)}")
    x = np.asarray(spectra, dtype=np.float32)
    if x.ndim != 2 or x.shape[0] < 1:
        raise InvalidInputError("spectra", f"expected (n, n_band) valid spectra, got shape {x.shape}")
    n_band = x.shape[1]
    k = np.asarray(unit_absorption, dtype=np.float64)
    z = _raw_features(x, features).astype(np.float64)
    direction = np.zeros(n_band)
    if features == "shape":
        t = k - k.mean()
        norm = float(np.linalg.norm(t))
        if norm > 0:
            direction = t / norm
            z -= np.outer(z @ direction, direction)
    centre = z.mean(axis=0)
    z -= centre
    n_keep = int(max(1, min(n_features, n_band - (1 if features == "shape" else 0), z.shape[0])))
    cov = z.T @ z / max(z.shape[0] - 1, 1)
    values, vectors = np.linalg.eigh(cov)
    basis = vectors[:, ::-1][:, :n_keep]
    if features == "shape":  # exact orthogonality to the target direction despite round-off
        basis -= np.outer(direction, direction @ basis)
        basis, _ = np.linalg.qr(basis)
    scores = z @ basis
    n_clusters = int(max(1, min(n_clusters, scores.shape[0])))
    if n_clusters == 1:
        centroids = scores.mean(axis=0, keepdims=True)
    else:
        rng = np.random.default_rng(seed)
        best, best_cost = None, np.inf
        for _ in range(_RESTARTS):
            # SciPy's k-means++ seeding (and one Lloyd step), then Lloyd iterations with the distances as one GEMM
            # (SciPy's own iterations call ``vq`` pixel by pixel: 10× slower on 40,000 samples).
            start, _ = kmeans2(scores, n_clusters, iter=1, minit="++", rng=rng)
            centroids, labels = _lloyd(scores, start)
            cost = float(((scores - centroids[labels]) ** 2).sum())
            if cost < best_cost:
                best, best_cost = centroids, cost
        centroids = best
        # Empty classes (k-means can leave a centroid without members) are dropped.
        centroids = centroids[np.unique(_nearest(scores, centroids))]
    # A stable class order: by the first principal component of the centroid (largest class first on ties).
    centroids = centroids[np.argsort(centroids[:, 0], kind="stable")]
    return ClusterModel(features=features, centre=centre, basis=basis, centroids=centroids, target_direction=direction)


def _nearest(points: np.ndarray, centroids: np.ndarray) -> np.ndarray:
    distance = (centroids * centroids).sum(axis=1)[None, :] - 2.0 * (points @ centroids.T)
    return np.argmin(distance, axis=1)


def _lloyd(points: np.ndarray, centroids: np.ndarray, iterations: int = _KMEANS_ITER) -> tuple[np.ndarray, np.ndarray]:
    """Lloyd's k-means iterations from ``centroids`` until at most 0.1 % of the labels change (at most ``iterations``)."""
    centroids = centroids.copy()
    labels = _nearest(points, centroids)
    n_class = centroids.shape[0]
    for _ in range(iterations):
        counts = np.bincount(labels, minlength=n_class)
        sums = np.stack([np.bincount(labels, weights=column, minlength=n_class) for column in points.T], axis=1)
        filled = counts > 0
        centroids[filled] = sums[filled] / counts[filled, None]
        new = _nearest(points, centroids)
        changed = int(np.count_nonzero(new != labels))
        labels = new
        if changed <= _KMEANS_TOLERANCE * labels.size:
            break
    return centroids, labels


def merge_small_classes(counts: np.ndarray, centroids: np.ndarray, min_pixels: int) -> tuple[np.ndarray, int]:
    """Map each class to an adequate one: itself when it has ``min_pixels``, else the nearest adequate centroid.

    Parameters
    ----------
    counts : ndarray (n_class,) int
        Valid pixels per class.
    centroids : ndarray (n_class, n_features)
        Class centroids in feature space.
    min_pixels : int
        Fewest pixels a class keeps its own statistics with.

    Returns
    -------
    (group_of_class (n_class,) int64, n_group)
        Compact group indices 0 … n_group-1 in the order of the adequate classes. When no class is adequate, all
        classes form one group.
    """
    counts = np.asarray(counts)
    adequate = np.flatnonzero(counts >= min_pixels)
    if adequate.size == 0:
        return np.zeros(counts.size, dtype=np.int64), 1
    c = np.asarray(centroids, dtype=np.float64)
    distance = ((c[:, None, :] - c[None, adequate, :]) ** 2).sum(axis=2)  # (n_class, n_adequate)
    group = np.argmin(distance, axis=1).astype(np.int64)
    group[adequate] = np.arange(adequate.size)
    return group, int(adequate.size)
