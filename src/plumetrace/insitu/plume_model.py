"""The dispersion model of the inversion: one interface, the Gaussian plume as today's implementation.

A dispersion model is bound to the samples of one survey (receptors and their meteorology) and returns the
coupling of candidate sources to those samples: the concentration per unit emission rate, mg m⁻³ per g s⁻¹. Two
nuisance parameters of the model enter the inversion: an offset of the wind direction and a factor on the
lateral spread σy; :class:`NuisanceGrid` holds their quadrature nodes and Gaussian priors.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray
from scipy.sparse import csr_matrix

from plumetrace.insitu.dispersion import Meteorology, beam_coupling, plume_coupling, plume_pair_terms
from plumetrace.insitu.observations import Observations

__all__ = ["DispersionModel", "GaussianPlume", "NuisanceGrid"]

#: Relative plume value below which a source-receptor pair is dropped from the sparse couplings (exp(-21) ≈ 1e-9).
_LOG_DROP = -21.0


@runtime_checkable
class DispersionModel(Protocol):
    """Coupling of candidate sources to the N samples of one survey (mg m⁻³ per g s⁻¹)."""

    def coupling(
        self, sources_xyz_m: NDArray, *, wind_dir_offset_deg: float = 0.0, sigma_y_scale: float = 1.0
    ) -> NDArray:
        """Dense coupling (G, N) of G sources (G, 3) (east, north, release height; m)."""
        ...

    def sparse_coupling(
        self, sources_xyz_m: NDArray, *, wind_dir_offset_deg: float, sigma_y_scales: NDArray
    ) -> list[csr_matrix]:
        """One CSR coupling (G, N) per lateral-spread factor in ``sigma_y_scales`` (S,)."""
        ...


@dataclass(frozen=True)
class GaussianPlume:
    """Steady Gaussian plume (:mod:`plumetrace.insitu.dispersion`) at point samples and along open-path beams.

    Attributes
    ----------
    observations : Observations
        The samples (receptor positions, beam endpoints).
    meteorology : Meteorology
        Per-sample wind and stability (N,), e.g. from :meth:`Observations.meteorology`.
    """

    observations: Observations
    meteorology: Meteorology

    def coupling(
        self, sources_xyz_m: NDArray, *, wind_dir_offset_deg: float = 0.0, sigma_y_scale: float | NDArray = 1.0
    ) -> NDArray:
        """Dense coupling (G, N), mg m⁻³ per g s⁻¹; an array ``sigma_y_scale`` (S,) gives (S, G, N)."""
        sources = np.atleast_2d(np.asarray(sources_xyz_m, dtype=float))
        scales = np.asarray(sigma_y_scale, dtype=float)
        obs = self.observations
        n = len(obs)
        lead = (scales.size,) if scales.ndim == 1 else ()
        out = np.zeros(lead + (sources.shape[0], n))
        for rows, beams in ((np.flatnonzero(~obs.is_beam), False), (np.flatnonzero(obs.is_beam), True)):
            if not rows.size:
                continue
            met = self._subset(rows)
            if beams:
                out[..., rows] = beam_coupling(
                    obs.beam_start_xyz_m[rows],
                    obs.beam_end_xyz_m[rows],
                    sources,
                    met,
                    wind_dir_offset_deg=wind_dir_offset_deg,
                    sigma_y_scale=scales,
                )
            else:
                out[..., rows] = plume_coupling(
                    obs.position_xyz_m[rows],
                    sources,
                    met,
                    wind_dir_offset_deg=wind_dir_offset_deg,
                    sigma_y_scale=scales,
                )
        return out

    def sparse_coupling(
        self, sources_xyz_m: NDArray, *, wind_dir_offset_deg: float, sigma_y_scales: NDArray
    ) -> list[csr_matrix]:
        """One CSR coupling (G, N) per factor in ``sigma_y_scales`` (S,), mg m⁻³ per g s⁻¹.

        Most source-receptor pairs are upwind or far off the plume axis; only the non-zeros are kept. Beams are
        integrated densely and then stored sparse.
        """
        sources = np.atleast_2d(np.asarray(sources_xyz_m, dtype=float))
        scales = np.atleast_1d(np.asarray(sigma_y_scales, dtype=float))
        if self.observations.has_beams:
            dense = self.coupling(sources, wind_dir_offset_deg=wind_dir_offset_deg, sigma_y_scale=scales)
            return [csr_matrix(d) for d in dense]
        source_index, receptor_index, base, crosswind_m, sigma_y_m = plume_pair_terms(
            self.observations.position_xyz_m,
            sources,
            self.meteorology,
            wind_dir_offset_deg,
            1.0,
            lateral_cut=6.5 * float(scales.max()),
        )
        log_lateral = -0.5 * (crosswind_m / sigma_y_m) ** 2
        norm = base / (np.sqrt(2 * np.pi) * sigma_y_m)
        shape = (sources.shape[0], len(self.observations))
        out = []
        for k in scales:
            near = log_lateral > _LOG_DROP * k**2
            values = norm[near] * np.exp(log_lateral[near] / k**2) / k
            out.append(csr_matrix((values, (source_index[near], receptor_index[near])), shape=shape))
        return out

    def _subset(self, rows: NDArray) -> Meteorology:
        met = self.meteorology
        n = len(self.observations)

        def pick(value):
            return None if value is None else np.broadcast_to(np.asarray(value), (n,))[rows]

        return Meteorology(
            pick(met.wind_speed_m_s),
            pick(met.wind_dir_deg),
            pick(met.stability),
            pick(met.obukhov_length_m),
            pick(met.sigma_theta_deg),
            met.wind_height_m,
            met.roughness_length_m,
        )


@dataclass(frozen=True)
class NuisanceGrid:
    """Quadrature nodes of the two model nuisances and their log prior.

    Attributes
    ----------
    wind_dir_offsets_deg : ndarray (D,)
        Offsets δ added to every wind direction (degrees); prior N(0, σδ²).
    sigma_y_scales : ndarray (S,)
        Factors k on the lateral spread σy; prior ln k ~ N(0, σk²).
    log_prior : ndarray (D·S,)
        Log prior of each combination, flattened with index ``i_offset * S + i_scale``.
    """

    wind_dir_offsets_deg: NDArray
    sigma_y_scales: NDArray
    log_prior: NDArray

    @classmethod
    def from_priors(
        cls, *, wind_dir_sd_deg: float, n_wind_offsets: int, sigma_y_log_sd: float, n_sigma_y: int
    ) -> NuisanceGrid:
        """Nodes across ±2.5 σδ and ±2 σk; a zero σ or a single node turns that nuisance off."""
        if wind_dir_sd_deg > 0 and n_wind_offsets > 1:
            offsets = np.linspace(-2.5, 2.5, n_wind_offsets) * wind_dir_sd_deg
            log_prior_offset = -0.5 * (offsets / wind_dir_sd_deg) ** 2
        else:
            offsets, log_prior_offset = np.zeros(1), np.zeros(1)
        if sigma_y_log_sd > 0 and n_sigma_y > 1:
            log_scale = np.linspace(-2.0, 2.0, n_sigma_y) * sigma_y_log_sd
            scales = np.exp(log_scale)
            log_prior_scale = -0.5 * (log_scale / sigma_y_log_sd) ** 2
        else:
            scales, log_prior_scale = np.ones(1), np.zeros(1)
        log_prior = (log_prior_offset[:, None] + log_prior_scale[None, :]).ravel()
        return cls(wind_dir_offsets_deg=offsets, sigma_y_scales=scales, log_prior=log_prior)

    @property
    def size(self) -> int:
        """Number of (offset, scale) combinations."""
        return int(self.log_prior.size)

    def split(self, index: int) -> tuple[int, int]:
        """``(i_offset, i_scale)`` of a flattened combination index."""
        return divmod(int(index), self.sigma_y_scales.size)

    def nodes(self, index: int) -> tuple[float, float]:
        """``(wind_dir_offset_deg, sigma_y_scale)`` of a flattened combination index."""
        i_offset, i_scale = self.split(index)
        return float(self.wind_dir_offsets_deg[i_offset]), float(self.sigma_y_scales[i_scale])
