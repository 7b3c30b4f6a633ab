"""The plume-layer forward model the identification fits: channel α, or the library's own resolution.

With the observed contrast ``D = B(T_p) − L̂_s`` (:mod:`plumetrace.detect.lwir.background`) one plume layer changes
a channel's radiance by ``ΔL = τ D (1/t̄ − 1)``, where ``t̄`` is the channel-averaged plume transmittance (``L̂_s``
already holds the plume: ``L̂_s = L_s t̄ + B (1 − t̄)``, so ``D = (B − L_s) t̄``; the surface and Planck radiances are
taken as smooth within a channel).

* *channel* model: ``t̄ = exp(−Σ α_g c_g)`` with channel-averaged α — exact only when α is flat within a channel;
* *high-resolution* model (a :class:`~plumetrace.spectra.gas_library.GasLibrary` was given): ``t̄ = R exp(−Σ α_g c_g)``
  on the library's grid, ``R`` the channels' Gaussian responses, so narrow lines saturate below the channel width as
  they do in nature (a 350 ppm·m ethyl acetate plume reaches optical depth 1.6 at its band peak).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = ["LayerModel"]


@dataclass(frozen=True)
class LayerModel:
    """Forward model of a plume layer for a set of gases.

    Attributes
    ----------
    absorption : ndarray (n_gas, n_band)
        Channel-averaged α per ppm·m.
    hires_absorption : ndarray (n_gas, n_hr), optional
        α per ppm·m on the library's grid (covering the channels).
    response : ndarray or scipy.sparse matrix (n_band, n_hr), optional
        Channel responses on that grid, rows summing to 1 (sparse: each channel covers a few per cent of it).
    """

    absorption: np.ndarray
    hires_absorption: np.ndarray | None = None
    response: Any = None

    @property
    def n_gas(self) -> int:
        return int(self.absorption.shape[0])

    def subset(self, gases: list[int] | tuple[int, ...]) -> LayerModel:
        """The model of the gases ``gases`` (indices), in that order."""
        idx = list(gases)
        hires = None if self.hires_absorption is None else self.hires_absorption[idx]
        return LayerModel(self.absorption[idx], hires, self.response)

    def evaluate(self, contrast: np.ndarray, columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Radiance change and its Jacobian.

        Parameters
        ----------
        contrast : ndarray (n_p, n_band)
            ``τ ⊙ D`` of the pixels.
        columns : ndarray (n_p, n_gas)
            Columns of the model's gases, ppm·m.

        Returns
        -------
        (model, jacobian) : ndarray (n_p, n_band), ndarray (n_p, n_gas, n_band)
            ``ΔL`` and ``∂ΔL/∂c_g``.
        """
        if self.hires_absorption is None or self.response is None:
            expk = np.exp(np.clip(columns @ self.absorption, -50.0, 50.0))
            return contrast * (expk - 1.0), (contrast * expk)[:, None, :] * self.absorption[None, :, :]
        n_p, s = columns.shape
        n_hr = self.hires_absorption.shape[1]
        trans = np.exp(-np.clip(columns @ self.hires_absorption, -50.0, 50.0))  # (n_p, n_hr)
        mean = np.maximum(np.asarray(self.response @ trans.T).T, 1e-12)  # t̄ (n_p, n_band)
        weighted = (trans[:, None, :] * self.hires_absorption[None, :, :]).reshape(n_p * s, n_hr)
        weighted = np.asarray(self.response @ weighted.T).T.reshape(n_p, s, -1)  # −∂t̄/∂c (n_p, s, b)
        return contrast * (1.0 / mean - 1.0), (contrast / mean**2)[:, None, :] * weighted
