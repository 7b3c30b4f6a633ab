"""Options of a detection run: one frozen, validated object that :func:`plumetrace.detect.engine.detect_scene` takes.

``DetectOptions()`` holds the defaults; ``DetectOptions(method="sparse").validated()`` checks every field and raises
:class:`~plumetrace.errors.InvalidInputError` naming the first bad one. :func:`resolve_options` applies keyword
overrides to an options object (``dataclasses.replace``) and validates the result, so
``detect_scene(scene, method="ace")`` and ``detect_scene(scene, DetectOptions(method="ace"))`` are the same run.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from plumetrace.detect.clusters import FEATURES as CLUSTER_FEATURES
from plumetrace.detect.clusters import check_clusters
from plumetrace.detect.matched_filter import STATS_CHOICES
from plumetrace.errors import InvalidInputError

__all__ = [
    "DEFAULT_WINDOW_NM",
    "METHODS",
    "SPILL_BYTES",
    "DetectOptions",
    "resolve_options",
    "window_bounds",
]

METHODS = ("mf", "sparse", "ace")
DEFAULT_WINDOW_NM = (2122.0, 2488.0)
#: Active-set size (bytes of spectra) above which the sparse filter keeps it in temporary files.
SPILL_BYTES = 256 * 2**20


def _whole(value: Any, least: int) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) and value >= least


def window_bounds(window_nm: Any) -> tuple[float, float]:
    """``window_nm`` as two floats (start < end, nm).

    Raises
    ------
    InvalidInputError
        Not two numbers, not finite, or the start not below the end (field ``window_nm``).
    """
    try:
        lo, hi = (float(v) for v in window_nm)
    except (TypeError, ValueError):
        raise InvalidInputError("window_nm", f"{window_nm!r}; expected two numbers, e.g. 2122,2488") from None
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo >= hi:
        raise InvalidInputError("window_nm", f"{lo:g}-{hi:g}: the start must be below the end")
    return lo, hi


@dataclass(frozen=True)
class DetectOptions:
    """Settings of a detection run (:func:`plumetrace.detect.engine.detect_scene`).

    Attributes
    ----------
    gas : str
        ``ch4`` or a user target file / ``.npz`` LUT (:func:`plumetrace.spectra.target.resolve_target`).
    method : {"mf", "sparse", "ace"}
        Classic matched filter; albedo-corrected reweighted-ℓ1 sparse filter (mag1c class, non-negative); or ACE
        (enhancement = matched-filter amplitude, plus ``ace_score``).
    stats : {"auto", "column", "group", "scene", "cluster"}
        Which pixels share background statistics; ``auto`` chooses from valid rows vs window bands (among column,
        group and scene). ``cluster``: pixels of the same spectral class (k-means on the shape of the window
        spectrum, :mod:`plumetrace.detect.clusters`), each filtered with its class's mean and covariance; the
        ``uncertainty`` and ``sensitivity`` of a pixel are its class's. CPU only.
    window_nm : (float, float)
        Spectral window, nm.
    iterations : int
        Reweighting iterations of the sparse filter (≥ 0).
    chunk_rows : int
        Lines per block (≥ 1).
    device : {"cpu", "cuda"}
        Where the block products run (:mod:`plumetrace.backend`).
    group_columns : int, optional
        Columns per group for ``stats="group"`` (default: from the valid rows).
    shrinkage : "loading", "oas" or float
        Covariance regularisation: diagonal loading at the noise floor (default), OAS or a fixed fraction toward the
        diagonal (:func:`plumetrace.detect.covariance.regularize_covariance`).
    flare_factor : float
        Pixels brighter than this × their column's reference brightness are masked as flare (``inf`` disables).
    saturation_value : float, optional
        Pixels with any window band at or above this value (file units) are masked as saturated.
    n_threads : int, optional
        Worker threads (default: CPU count, at most 8).
    direct_read : bool
        Read ENVI files directly (False: through the Scene's array).
    progress : bool, optional
        Show a progress bar (default: when stderr is a terminal).
    albedo_correct : bool, optional
        Divide estimate and uncertainty by the albedo factor ``r = xᵀμ/μᵀμ``: a dark pixel carries a weaker
        absolute absorption signal, so the plain matched filter underestimates it by ``r``. Default (None): on for
        ``sparse`` (always, as in mag1c), off for ``mf`` and ``ace`` (:attr:`albedo_corrected`).
    robust : bool
        ``mf`` and ``ace``: take the significant plume pixels (:func:`plumetrace.detect.robust.plume_mask`) out of
        the background statistics and apply the filter again (:mod:`plumetrace.detect.robust_round`). Each round
        costs a re-read of the blocks holding marked pixels; the filter is re-applied (one more pass) unless the
        downdated statistics change the marked pixels' summed estimate by less than 1 %
        (:func:`plumetrace.detect.robust.reapply_needed`).
    robust_rounds : int
        Rounds of mask → exclusion → re-application (each mask from the previous round's estimate; ≥ 0).
    spill_bytes : int
        ``sparse``: when the pixels with a positive first estimate would hold more spectra than this (bytes), the
        active set is kept in temporary files and read back at each iteration, so memory does not grow with the
        flight-line length (default 256 MiB).
    clusters : int, optional
        ``stats="cluster"``: spectral classes to fit. Default: up to
        :data:`~plumetrace.detect.clusters.DEFAULT_MAX_CLUSTERS` (4), fewer when the scene has fewer than 5 ×
        :func:`~plumetrace.detect.clusters.min_class_pixels` (4 × window bands) valid pixels per class. A class
        left with fewer than that minimum is merged into the nearest adequate class.
    cluster_features : {"shape", "radiance"}
        ``stats="cluster"``: cluster the log-radiance shape with the target direction projected out (default; a
        plume never moves a pixel to another class) or the raw window radiance.
    """

    gas: str = "ch4"
    method: str = "mf"
    stats: str = "auto"
    window_nm: tuple[float, float] = DEFAULT_WINDOW_NM
    iterations: int = 30
    chunk_rows: int = 64
    device: str = "cpu"
    group_columns: int | None = None
    shrinkage: float | str = "loading"
    flare_factor: float = 4.0
    saturation_value: float | None = None
    n_threads: int | None = None
    direct_read: bool = True
    progress: bool | None = None
    albedo_correct: bool | None = None
    robust: bool = True
    robust_rounds: int = 1
    spill_bytes: int = SPILL_BYTES
    clusters: int | None = None
    cluster_features: str = "shape"

    @property
    def albedo_corrected(self) -> bool:
        """``albedo_correct`` resolved: its default is on for ``sparse`` only."""
        return self.method == "sparse" if self.albedo_correct is None else bool(self.albedo_correct)

    @property
    def robust_active(self) -> bool:
        """Whether the robust round runs (``mf``/``ace`` with ``robust`` and at least one round)."""
        return bool(self.robust) and self.method in ("mf", "ace") and int(self.robust_rounds) > 0

    def validated(self) -> DetectOptions:
        """Return self after checking every field; raise :class:`InvalidInputError` naming the first bad one."""
        method, stats = self.method, self.stats
        if method == "sparse" and self.albedo_correct is not None and not self.albedo_correct:
            raise InvalidInputError("albedo_correct", "the sparse filter is always albedo-corrected")
        if method not in METHODS:
            raise InvalidInputError("method", f"{method!r}; expected one of {', '.join(METHODS)}")
        if stats not in STATS_CHOICES:
            raise InvalidInputError("stats", f"{stats!r}; expected one of {', '.join(STATS_CHOICES)}")
        if not _whole(self.iterations, 0):
            raise InvalidInputError("iterations", f"{self.iterations!r}; expected a whole number ≥ 0")
        if not _whole(self.chunk_rows, 1):
            raise InvalidInputError("chunk_rows", f"{self.chunk_rows!r}; expected a whole number ≥ 1")
        if self.group_columns is not None and not _whole(self.group_columns, 1):
            raise InvalidInputError("group_columns", f"{self.group_columns!r}; expected a whole number ≥ 1")
        if self.group_columns is not None and stats != "group":
            raise InvalidInputError("group_columns", f"applies to stats 'group' only, not {stats!r}")
        if self.n_threads is not None and not _whole(self.n_threads, 1):
            raise InvalidInputError(
                "n_threads",
                f"{self.n_threads!r}; expected a whole number ≥ 1 (leave it out for all cores)",
            )
        if not self.flare_factor > 1:
            raise InvalidInputError(
                "flare_factor",
                f"{self.flare_factor!r}; expected a number above 1 (inf disables)",
            )
        if stats != "cluster" and (self.clusters is not None or self.cluster_features != "shape"):
            raise InvalidInputError("clusters", f"applies to stats 'cluster' only, not {stats!r}")
        if stats == "cluster":
            if self.clusters is not None:
                check_clusters(self.clusters, 2**62, 1)  # the type and sign; the pixel count is checked once known
            if self.cluster_features not in CLUSTER_FEATURES:
                raise InvalidInputError(
                    "cluster_features",
                    f"{self.cluster_features!r}; expected one of {', '.join(CLUSTER_FEATURES)}",
                )
            if self.device != "cpu":
                raise InvalidInputError("device", f"{self.device!r}: stats 'cluster' runs on the CPU only")
        if not _whole(self.robust_rounds, 0):
            raise InvalidInputError("robust_rounds", f"{self.robust_rounds!r}; expected a whole number ≥ 0")
        if not _whole(self.spill_bytes, 0):
            raise InvalidInputError(
                "spill_bytes",
                f"{self.spill_bytes!r}; expected a whole number of bytes ≥ 0",
            )
        window_bounds(self.window_nm)
        return self


def resolve_options(options: DetectOptions | None = None, **overrides: Any) -> DetectOptions:
    """``options`` (default: :class:`DetectOptions`) with ``overrides`` applied, validated.

    Raises
    ------
    TypeError
        An override that is not a field of :class:`DetectOptions`.
    InvalidInputError
        A bad value, naming the field.
    """
    base = DetectOptions() if options is None else options
    if not isinstance(base, DetectOptions):
        raise TypeError(f"options must be a DetectOptions, not {type(base).__name__}")
    return (dataclasses.replace(base, **overrides) if overrides else base).validated()
