"""Options of an LWIR detection and identification run: one frozen, validated object.

``LwirOptions()`` holds the defaults; ``LwirOptions(...).validated()`` checks every field and raises
:class:`~plumetrace.errors.InvalidInputError` naming the first bad one (the CLI option as typed).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from plumetrace.errors import InvalidInputError

__all__ = ["LWIR_WINDOW_NM", "STATS_CHOICES", "LwirOptions"]

#: The long-wave infrared window the LWIR branch works in, nm (7.5-13 µm).
LWIR_WINDOW_NM = (7500.0, 13000.0)
#: Background statistics: one mean and covariance per scene, or per spectral class (k-means).
STATS_CHOICES = ("scene", "class")


def _positive(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) and value > 0


@dataclass(frozen=True)
class LwirOptions:
    """Settings of :func:`plumetrace.detect.lwir.engine.detect_lwir`.

    Attributes
    ----------
    plume_temperature_k : float, optional
        Temperature of the plume layer, K. ``None``: the stated assumption that the plume is at the near-surface air
        temperature, estimated from the scene as the median land-surface temperature (TES) less
        ``air_offset_k`` (see :func:`plumetrace.detect.lwir.background.estimate_plume_temperature`).
    contrast_k : float, optional
        Instead of one plume temperature: the plume is ``contrast_k`` warmer (negative: colder) than each pixel's
        background brightness temperature (the channel mean of the brightness temperature of the surface-leaving
        radiance), K. Exclusive with ``plume_temperature_k``.
    air_offset_k : float
        Surface minus air temperature assumed when the plume temperature is estimated, K (daytime: surfaces are
        warmer than the air above them).
    stats : {"scene", "class"}
        Clutter statistics per scene, or per spectral class of the surface (k-means on the emissivity shape).
    n_classes : int
        Classes for ``stats="class"`` (fewer on small scenes: each needs 4 × bands pixels).
    min_contrast_k : float
        Pixels whose thermal contrast |T_plume − T_brightness| is below this are BLIND: no column, NaN, K.
    emissivity_max : float
        Largest emissivity of the normalised-emissivity TES (0 < ε ≤ 1).
    detection_snr : float
        A pixel is a candidate when its best gas's matched-filter column exceeds this many σ.
    ace_threshold : float
        ...and its ACE score (squared whitened cosine) exceeds this (0-1).
    min_pixels : int
        Smallest group of connected candidate pixels taken as a plume.
    ambiguity_correlation : float
        Gases whose whitened target spectra correlate above this (0-1) cannot be told apart at the sensor's
        resolution: they are reported as one ambiguous group.
    max_gases : int
        Most gases the stepwise selection puts in one plume.
    pixel_snr : float
        A plume pixel is labelled with a selected gas when that gas's column exceeds this many σ there.
    bic_penalty : float
        κ, the multiplier of the BIC's ``ln N`` penalty per gas (1: the textbook BIC; larger guards against model
        error — line saturation, library error — being explained by a spurious extra gas; tuned on simulated
        scenes, docs/lwir.md).
    robust : bool
        Take the detected plumes out of the clutter statistics and run again (one round).
    """

    plume_temperature_k: float | None = None
    contrast_k: float | None = None
    air_offset_k: float = 0.0
    stats: str = "scene"
    n_classes: int = 4
    min_contrast_k: float = 0.5
    emissivity_max: float = 0.985
    detection_snr: float = 4.5
    ace_threshold: float = 0.05
    min_pixels: int = 4
    ambiguity_correlation: float = 0.95
    max_gases: int = 3
    pixel_snr: float = 3.0
    bic_penalty: float = 3.0
    robust: bool = True

    def validated(self) -> LwirOptions:
        """Return ``self`` after checking every field.

        Raises
        ------
        InvalidInputError
            The first field out of range, named as the CLI option.
        """
        t = self.plume_temperature_k
        if t is not None and not (_positive(t) and 150.0 <= float(t) <= 400.0):
            raise InvalidInputError("--plume-temperature-k", f"{t!r} K; expected a temperature within 150-400 K")
        c = self.contrast_k
        if c is not None and not (isinstance(c, (int, float)) and math.isfinite(c) and abs(c) <= 50.0):
            raise InvalidInputError("--contrast-k", f"{c!r} K; expected a temperature difference within -50..50 K")
        if c is not None and t is not None:
            raise InvalidInputError("--contrast-k", "give either --contrast-k or --plume-temperature-k, not both")
        if not (isinstance(self.air_offset_k, (int, float)) and math.isfinite(self.air_offset_k)):
            raise InvalidInputError("air_offset_k", f"{self.air_offset_k!r}; expected a finite number of kelvin")
        if self.stats not in STATS_CHOICES:
            raise InvalidInputError("--stats", f"{self.stats!r}; expected one of {', '.join(STATS_CHOICES)}")
        if not (isinstance(self.n_classes, (int, np.integer)) and 1 <= self.n_classes <= 16):
            raise InvalidInputError("--clusters", f"{self.n_classes!r}; expected a whole number within 1-16")
        if not (_positive(self.min_contrast_k) and math.isfinite(self.min_contrast_k)):
            raise InvalidInputError("min_contrast_k", f"{self.min_contrast_k!r} K; expected a positive number")
        if not (_positive(self.emissivity_max) and self.emissivity_max <= 1.0):
            raise InvalidInputError("emissivity_max", f"{self.emissivity_max!r}; expected 0 < ε ≤ 1")
        if not (_positive(self.detection_snr) and math.isfinite(self.detection_snr)):
            raise InvalidInputError("detection_snr", f"{self.detection_snr!r}; expected a positive number")
        if not (isinstance(self.ace_threshold, (int, float)) and 0.0 <= self.ace_threshold < 1.0):
            raise InvalidInputError("ace_threshold", f"{self.ace_threshold!r}; expected 0 ≤ value < 1")
        if not (isinstance(self.min_pixels, (int, np.integer)) and self.min_pixels >= 1):
            raise InvalidInputError("min_pixels", f"{self.min_pixels!r}; expected a whole number ≥ 1")
        if not (_positive(self.ambiguity_correlation) and self.ambiguity_correlation < 1.0):
            raise InvalidInputError("ambiguity_correlation", f"{self.ambiguity_correlation!r}; expected 0 < value < 1")
        if not (isinstance(self.max_gases, (int, np.integer)) and 1 <= self.max_gases <= 8):
            raise InvalidInputError("max_gases", f"{self.max_gases!r}; expected a whole number within 1-8")
        if not (_positive(self.bic_penalty) and self.bic_penalty <= 100.0):
            raise InvalidInputError("bic_penalty", f"{self.bic_penalty!r}; expected 0 < κ ≤ 100")
        if not (_positive(self.pixel_snr) and math.isfinite(self.pixel_snr)):
            raise InvalidInputError("pixel_snr", f"{self.pixel_snr!r}; expected a positive number")
        return self

    def replace(self, **changes: Any) -> LwirOptions:
        """A validated copy with ``changes`` applied."""
        return dataclasses.replace(self, **changes).validated()
