"""The observation table as typed arrays: the one place the inversion reads the table's columns.

:func:`plumetrace.io.observations.validate_observations` returns a ``pandas.DataFrame`` (columns documented in
``docs/observations.md``); :meth:`Observations.from_table` turns it into a frozen set of NumPy arrays with units in
their names, and :meth:`Observations.meteorology` into the :class:`~plumetrace.insitu.dispersion.Meteorology` the
dispersion model needs (optionally with the wind vector-averaged over a window).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from plumetrace.insitu.dispersion import Meteorology

__all__ = ["Observations"]


@dataclass(frozen=True)
class Observations:
    """Samples of one survey in local east/north/up metres around the table's origin.

    Attributes
    ----------
    time : ndarray (N,) of datetime64
        Sample times, UTC.
    is_beam : ndarray (N,) of bool
        True for open-path beams (path-averaged samples), False for point samples.
    position_xyz_m : ndarray (N, 3)
        Point position, or the beam midpoint (m).
    beam_start_xyz_m, beam_end_xyz_m : ndarray (N, 3)
        Beam endpoints (m); NaN for point samples.
    concentration_mg_m3 : ndarray (N,)
        Mass concentration (mg m⁻³): the point value or the path average.
    wind_speed_m_s, wind_dir_deg : ndarray (N,)
        Mean wind speed (m s⁻¹) and the direction it blows FROM (degrees clockwise from north).
    stability : ndarray (N,) of object or None
        Pasquill class A–F, None where not given; None when the table has no ``stability`` column.
    obukhov_length_m, sigma_theta_deg : ndarray (N,) or None
        Obukhov length (m) and σ of the wind direction (degrees), NaN where not given; None without the column.
    source : str
        Where the samples came from (a file path), for error messages.
    """

    time: NDArray
    is_beam: NDArray
    position_xyz_m: NDArray
    beam_start_xyz_m: NDArray
    beam_end_xyz_m: NDArray
    concentration_mg_m3: NDArray
    wind_speed_m_s: NDArray
    wind_dir_deg: NDArray
    stability: NDArray | None = None
    obukhov_length_m: NDArray | None = None
    sigma_theta_deg: NDArray | None = None
    source: str = ""

    @classmethod
    def from_table(cls, table: pd.DataFrame) -> Observations:
        """Typed arrays from a canonical table of :func:`plumetrace.io.observations.validate_observations`."""
        n = len(table)

        def columns(names: tuple[str, ...]) -> NDArray:
            if not set(names) <= set(table.columns):
                return np.full((n, len(names)), np.nan)
            return table[list(names)].to_numpy(float)

        stability = None
        if "stability" in table:
            raw = table["stability"].to_numpy(dtype=object)
            stability = np.where(raw == "", None, raw)
        return cls(
            time=pd.DatetimeIndex(pd.to_datetime(table["time"], utc=True)).tz_convert(None).to_numpy(),
            is_beam=(table["kind"] == "beam").to_numpy(bool) if "kind" in table else np.zeros(n, dtype=bool),
            position_xyz_m=table[["x_m", "y_m", "z_m"]].to_numpy(float),
            beam_start_xyz_m=columns(("x0_m", "y0_m", "z0_m")),
            beam_end_xyz_m=columns(("x1_m", "y1_m", "z1_m")),
            concentration_mg_m3=table["concentration_mg_m3"].to_numpy(float),
            wind_speed_m_s=table["wind_speed_m_s"].to_numpy(float),
            wind_dir_deg=table["wind_dir_deg"].to_numpy(float),
            stability=stability,
            obukhov_length_m=table["obukhov_length_m"].to_numpy(float) if "obukhov_length_m" in table else None,
            sigma_theta_deg=table["sigma_theta_deg"].to_numpy(float) if "sigma_theta_deg" in table else None,
            source=str(table.attrs.get("source") or ""),
        )

    def __len__(self) -> int:
        return int(self.concentration_mg_m3.size)

    @property
    def has_beams(self) -> bool:
        """Whether any sample is an open-path beam."""
        return bool(self.is_beam.any())

    def meteorology(
        self, *, wind_height_m: float, roughness_length_m: float, wind_average_s: float = 0.0
    ) -> Meteorology:
        """Per-sample :class:`Meteorology` for the dispersion model.

        Parameters
        ----------
        wind_height_m, roughness_length_m : float
            Height of the wind measurement and the surface roughness length z0 (m).
        wind_average_s : float
            > 0 replaces each sample's wind by the vector mean over a centred window of this length (s): a plume
            sampled at a point was carried there by the wind of the last minute or so, not by the 1-s anemometer
            reading, whose noise would otherwise jitter the model plume by x·δθ (most at the farthest candidate
            sources). The speed is the scalar mean (the transport speed).
        """
        speed = self.wind_speed_m_s
        direction = self.wind_dir_deg
        if wind_average_s > 0 and len(self) > 1:
            index = pd.DatetimeIndex(pd.to_datetime(self.time, utc=True))
            rad = np.deg2rad(direction)
            components = pd.DataFrame({"u": -speed * np.sin(rad), "v": -speed * np.cos(rad), "s": speed}, index=index)
            mean = components.rolling(pd.Timedelta(seconds=wind_average_s), center=True, min_periods=1).mean()
            direction = np.mod(np.rad2deg(np.arctan2(-mean["u"].to_numpy(), -mean["v"].to_numpy())), 360.0)
            speed = mean["s"].to_numpy()
        return Meteorology(
            wind_speed_m_s=speed,
            wind_dir_deg=direction,
            stability=self.stability,
            obukhov_length_m=self.obukhov_length_m,
            sigma_theta_deg=self.sigma_theta_deg,
            wind_height_m=wind_height_m,
            roughness_length_m=roughness_length_m,
        )

    def series_order(self) -> NDArray:
        """Row order for residual autocorrelation (N,) indices.

        The table order (time / along-track), except for fixed sensors (fewer distinct positions than half the
        samples), whose rows interleave: then each sensor's own time series, one after another.
        """
        n = len(self)
        _, location = np.unique(np.round(self.position_xyz_m, 1), axis=0, return_inverse=True)
        if location.max() + 1 < n / 2:
            return np.lexsort((np.arange(n), location.ravel()))
        return np.arange(n)
