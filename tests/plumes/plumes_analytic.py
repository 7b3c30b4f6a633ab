"""Analytic steady Gaussian plume with a known emission rate (shared by the plume tests)."""

from __future__ import annotations

import numpy as np

from plumetrace.plumes.quantify import ppm_m_to_kg_m2


def gaussian_plume_ppm_m(
    shape: tuple[int, int],
    *,
    source_rc: tuple[float, float],
    rate_kg_h: float,
    wind_speed_m_s: float,
    pixel_size_m: float,
    downwind_rc: tuple[float, float] = (0.0, 1.0),
    sigma0_m: float = 20.0,
    spread: float = 0.15,
) -> np.ndarray:
    """Vertically integrated steady Gaussian plume, ppm·m (CH4).

    Its cross-wind integral is exactly Q/U at every downwind distance, so the true line density, the true mass
    in any downwind stretch (Q·length/U) and the true flux (Q) are known analytically.
    """
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float64)
    dr, dc = downwind_rc
    along = ((rows - source_rc[0]) * dr + (cols - source_rc[1]) * dc) * pixel_size_m
    across = ((rows - source_rc[0]) * (-dc) + (cols - source_rc[1]) * dr) * pixel_size_m
    sigma_y = sigma0_m + spread * np.clip(along, 0, None)
    column_kg_m2 = (
        (rate_kg_h / 3600.0) / (wind_speed_m_s * np.sqrt(2 * np.pi) * sigma_y) * np.exp(-0.5 * (across / sigma_y) ** 2)
    )
    column_kg_m2[along < 0] = 0.0
    return column_kg_m2 / ppm_m_to_kg_m2("ch4")
