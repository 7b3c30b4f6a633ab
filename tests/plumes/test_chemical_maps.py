"""Maps of LWIR chemicals go through the plumes stage as methane maps do: the gas's molar mass, the thermal sensor's
calibration row, and a footprint that states no detection limit (the POD law is measured on SWIR methane only)."""

from __future__ import annotations

import pytest

from plumetrace.pixel_geometry import pixel_geometry
from plumetrace.plumes.footprint import scene_footprint
from plumetrace.plumes.pipeline import analyze_plumes
from plumetrace.plumes.wind import Wind


def test_acetone_map_from_a_thermal_imager_is_quantified(plume_map):
    methane, _ = plume_map(noise_ppm_m=2.0, rate_kg_h=100.0)
    acetone = methane.copy()
    acetone.attrs.update(sensor="hytes", gas="acetone")
    wind = Wind(4.0, 270.0, 1.0)
    ch4 = analyze_plumes(methane, wind=wind, seed=1).records
    chem = analyze_plumes(acetone, wind=wind, seed=1).records
    assert len(chem) == 1 and chem[0]["gas"] == "acetone" and chem[0]["sensor"] == "hytes"
    # the same ppm·m columns are 58.08 / 16.04 times the mass; hytes uses the airborne U_eff row, prisma its own
    ratio = chem[0]["ime_kg"] / ch4[0]["ime_kg"]
    assert ratio == pytest.approx(58.08 / 16.043, rel=1e-3)
    footprint = scene_footprint(acetone, pixel_geometry(acetone), wind, scene_id="lwir", n_plumes=1)
    assert footprint["properties"]["gas"] == "acetone"
    assert footprint["properties"]["detection_limit_kg_h"] != footprint["properties"]["detection_limit_kg_h"]  # NaN


def test_identification_confidence_of_the_gas_follows_the_plume(plume_map):
    import numpy as np

    acetone, _ = plume_map(noise_ppm_m=2.0, rate_kg_h=100.0)
    acetone.attrs.update(sensor="hytes", gas="acetone")
    probability = np.full(acetone["enhancement"].shape, np.nan, np.float32)
    probability[:, :60] = 0.8  # the identified plume covers the source half of the map
    acetone["gas_probability"] = (("y", "x"), probability)
    (record,) = analyze_plumes(acetone, wind=Wind(4.0, 270.0, 1.0), seed=1).records
    assert record["identification_confidence"] == pytest.approx(0.8)
    methane, _ = plume_map(noise_ppm_m=2.0, rate_kg_h=100.0)
    assert "identification_confidence" not in analyze_plumes(methane, wind=Wind(4.0, 270.0, 1.0), seed=1).records[0]
