"""Options of the in-situ inversion: one frozen, validated object.

``InversionOptions()`` gives the defaults; change some with ``dataclasses.replace(options, seed=3)`` or
``invert_source(table, seed=3)``. Every check runs when the object is built, and an invalid value raises
:class:`~plumetrace.errors.InvalidInputError` naming the field.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from plumetrace.errors import InvalidFileError, InvalidInputError, warn_input

__all__ = [
    "MAX_WIND_HEIGHT_M",
    "MODEL_ERROR_LOG_SD",
    "SIGMA_Y_LOG_SD",
    "WARN_ROUGHNESS_M",
    "InversionOptions",
    "check_sample_count",
    "validate_inversion_inputs",
]

#: Common (whole-survey) multiplicative model error, ln units: a Gaussian plume driven by on-site wind and
#: turbulence data is taken to be good to a factor of 2 at 95 % for a crosswind-integrated quantity
#: (ln 2 / 1.96): the FAC2 criterion of Chang & Hanna (2004) read as a 95 % bound. Not fitted to any data set.
MODEL_ERROR_LOG_SD = float(np.log(2.0) / 1.96)
#: Prior σ of ln k for the factor k on the lateral spread σy: σy from σθ (Draxler/Irwin) or from a stability class
#: is uncertain by about a factor of 1.5 (one sigma); the data then estimate k.
SIGMA_Y_LOG_SD = float(np.log(1.5))
#: Highest wind measurement accepted (m): a tall tower; the log-profile conversion is meaningless above.
MAX_WIND_HEIGHT_M = 500.0
#: Roughness lengths z0 (m) above this are unusual (a city centre is ~1-2 m) and warned about.
WARN_ROUGHNESS_M = 3.0


def _finite(name: str, value: object) -> float:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidInputError(name, f"must be a number, got {value!r}") from None
    if not np.isfinite(number):
        raise InvalidInputError(name, f"must be a finite number, got {value!r}")
    return number


def _count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise InvalidInputError(name, f"must be an integer >= 1, got {value!r}")
    return int(value)


@dataclass(frozen=True)
class InversionOptions:
    """Options of :func:`plumetrace.insitu.inversion.invert_source` (lengths in m, local east/north frame).

    Attributes
    ----------
    source_known : (x, y) or None
        A known source position (m); only the rate, the background offset and the nuisances are then estimated.
    prior_box : (xmin, xmax, ymin, ymax) or None
        Uniform prior on the position (m); default: the sampled area padded by max(100 m, half its size).
    grid_step_m : float or None
        Grid spacing (m); default: box size / 40.
    source_heights_m : tuple of float
        Candidate release heights (m); more than one adds a height dimension to the grid.
    wind_height_m, roughness_length_m : float
        Wind measurement height, in (0, 500] m, and surface roughness z0 in (0, wind height) m.
    model_error_fraction : float
        r, the per-sample multiplicative model error (one sigma) in the likelihood, in (0, 5).
    model_error_log_sd : float
        τ0, the common (whole-survey) multiplicative model error, ln units, in [0, 3): the rate's posterior is
        convolved with a log-normal of this width (the data constrain only the rate times a common model factor).
    noise_floor_fraction : float
        Lower bound of the noise σ0 as a fraction of the largest enhancement, in [0, 1).
    wind_dir_sd_deg : float
        Prior σ of the wind-direction offset δ (degrees), >= 0; 0 turns the nuisance off.
    n_wind_offsets : int
        Grid points of δ across ±2.5 σ.
    sigma_y_log_sd : float
        Prior σ of ln k, k a factor on the lateral spread σy, in [0, 2); 0 turns the nuisance off.
    n_sigma_y : int
        Grid points of ln k across ±2 σ.
    temper : bool
        Temper the likelihood for correlated / over-dispersed residuals
        (:func:`plumetrace.insitu.likelihood.residual_temper`).
    wind_average_s : float
        Vector-average the logged wind over this centred window (s), >= 0; 0 uses each row's own reading.
    n_samples : int
        Importance samples of the refinement.
    seed : int
        Random seed of the sampler, >= 0.
    """

    source_known: tuple[float, float] | None = None
    prior_box: tuple[float, float, float, float] | None = None
    grid_step_m: float | None = None
    source_heights_m: tuple[float, ...] = (0.5,)
    wind_height_m: float = 10.0
    roughness_length_m: float = 0.03
    model_error_fraction: float = 0.5
    model_error_log_sd: float = MODEL_ERROR_LOG_SD
    noise_floor_fraction: float = 0.01
    wind_dir_sd_deg: float = 5.0
    n_wind_offsets: int = 7
    sigma_y_log_sd: float = SIGMA_Y_LOG_SD
    n_sigma_y: int = 5
    temper: bool = True
    wind_average_s: float = 60.0
    n_samples: int = 400
    seed: int = 0

    def __post_init__(self) -> None:
        def set_(name: str, value: object) -> None:
            object.__setattr__(self, name, value)

        z = _finite("wind_height_m", self.wind_height_m)
        if not 0 < z <= MAX_WIND_HEIGHT_M:
            raise InvalidInputError("wind_height_m", f"must lie in (0, {MAX_WIND_HEIGHT_M:g}] m, got {z:g}")
        z0 = _finite("roughness_length_m", self.roughness_length_m)
        if not 0 < z0 < z:
            raise InvalidInputError(
                "roughness_length_m", f"must be > 0 m and below the wind height {z:g} m, got {z0:g}"
            )
        if z0 > WARN_ROUGHNESS_M:
            warn_input(None, "roughness_length_m", f"{z0:g} m is unusually rough (a city centre is about 1-2 m)")
        heights = tuple(_finite("source_heights_m", h) for h in np.atleast_1d(self.source_heights_m).tolist())
        if not heights or min(heights) < 0:
            raise InvalidInputError("source_heights_m", f"need one or more heights >= 0 m, got {list(heights)}")
        average = _finite("wind_average_s", self.wind_average_s)
        if average < 0:
            raise InvalidInputError("wind_average_s", f"must be >= 0 s, got {average:g}")
        if self.grid_step_m is not None and not _finite("grid_step_m", self.grid_step_m) > 0:
            raise InvalidInputError("grid_step_m", f"must be > 0 m, got {self.grid_step_m!r}")
        seed = self.seed
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
            raise InvalidInputError("seed", f"must be an integer >= 0, got {seed!r}")
        box = None
        if self.prior_box is not None:
            if len(self.prior_box) != 4:
                raise InvalidInputError("prior_box", f"need XMIN,XMAX,YMIN,YMAX, got {len(self.prior_box)} numbers")
            box = tuple(_finite("prior_box", v) for v in self.prior_box)
            xmin, xmax, ymin, ymax = box
            if not (xmax > xmin and ymax > ymin):
                raise InvalidInputError(
                    "prior_box", f"need xmin < xmax and ymin < ymax, got {xmin:g},{xmax:g},{ymin:g},{ymax:g}"
                )
        known = None
        if self.source_known is not None:
            if len(self.source_known) != 2:
                raise InvalidInputError("source_known", f"need X,Y, got {len(self.source_known)} numbers")
            known = tuple(_finite("source_known", v) for v in self.source_known)
            x, y = known
            if box is not None and not (xmin <= x <= xmax and ymin <= y <= ymax):
                raise InvalidInputError(
                    "source_known",
                    f"({x:g}, {y:g}) lies outside the prior box {xmin:g}..{xmax:g} x {ymin:g}..{ymax:g} m",
                )
        if not 0 < _finite("model_error_fraction", self.model_error_fraction) < 5:
            raise InvalidInputError("model_error_fraction", "must lie in (0, 5)")
        if not 0 <= _finite("model_error_log_sd", self.model_error_log_sd) < 3:
            raise InvalidInputError("model_error_log_sd", "must lie in [0, 3)")
        if not 0 <= _finite("sigma_y_log_sd", self.sigma_y_log_sd) < 2:
            raise InvalidInputError("sigma_y_log_sd", "must lie in [0, 2)")
        if not 0 <= _finite("noise_floor_fraction", self.noise_floor_fraction) < 1:
            raise InvalidInputError("noise_floor_fraction", "must lie in [0, 1)")
        if not _finite("wind_dir_sd_deg", self.wind_dir_sd_deg) >= 0:
            raise InvalidInputError("wind_dir_sd_deg", f"must be >= 0 degrees, got {self.wind_dir_sd_deg!r}")
        for name in ("n_wind_offsets", "n_sigma_y", "n_samples"):
            set_(name, _count(name, getattr(self, name)))
        set_("source_heights_m", heights)
        set_("prior_box", box)
        set_("source_known", known)
        set_("temper", bool(self.temper))
        set_("seed", int(seed))


def validate_inversion_inputs(
    observations: pd.DataFrame | None = None,
    *,
    source_known: Sequence[float] | None = None,
    prior_box: Sequence[float] | None = None,
    grid_step_m: float | None = None,
    source_heights_m: Sequence[float] = (0.5,),
    wind_height_m: float = 10.0,
    roughness_length_m: float = 0.03,
    wind_average_s: float = 60.0,
    seed: int = 0,
) -> InversionOptions:
    """The input checks of :func:`~plumetrace.insitu.inversion.invert_source`, callable alone to refuse bad
    options before a log is read; returns the validated :class:`InversionOptions`.

    Raises
    ------
    InvalidFileError
        ``observations`` (named by ``observations.attrs["source"]``) has fewer than 2 samples.
    InvalidInputError
        Naming the parameter: a non-finite value; ``wind_height_m`` outside (0, 500] m; ``roughness_length_m`` not
        in (0, ``wind_height_m``) (a log wind profile needs z > z0 > 0); a negative source height; ``source_known``
        outside ``prior_box``; ``prior_box`` with xmin >= xmax or ymin >= ymax; negative ``wind_average_s``,
        ``grid_step_m`` <= 0 or a negative ``seed``. A roughness above 3 m is only warned about.
    """
    options = InversionOptions(
        source_known=None if source_known is None else tuple(source_known),  # type: ignore[arg-type]
        prior_box=None if prior_box is None else tuple(prior_box),  # type: ignore[arg-type]
        grid_step_m=grid_step_m,
        source_heights_m=tuple(np.atleast_1d(source_heights_m).tolist()),
        wind_height_m=wind_height_m,
        roughness_length_m=roughness_length_m,
        wind_average_s=wind_average_s,
        seed=seed,
    )
    if observations is not None:
        check_sample_count(len(observations), source=observations.attrs.get("source"))
    return options


def check_sample_count(n_samples: int, *, source: str | None = None) -> None:
    """Refuse fewer than 2 samples, naming the file ``source`` when there is one."""
    if n_samples >= 2:
        return
    problem = f"need at least 2 samples, got {n_samples}"
    if source:
        raise InvalidFileError(source, "rows", problem)
    raise InvalidInputError("observations", problem)
