"""LWIR products: a COG per gas that `plumetrace plumes` reads like a methane map, labels, identification, STAC."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parents[1] / "detect" / "lwir"))  # the synthetic LWIR scene builder

from _lwir_synthetic import library, scene  # noqa: E402

from plumetrace.detect.lwir.engine import detect_lwir  # noqa: E402
from plumetrace.detect.lwir.options import LwirOptions  # noqa: E402
from plumetrace.io.cog import read_enhancement  # noqa: E402
from plumetrace.products.lwir import CSV_COLUMNS, gas_file_name, write_lwir_products  # noqa: E402


@pytest.fixture(scope="module")
def products(tmp_path_factory):
    lib = library()
    ds, truth = scene(lib, {"beta": 100.0, "gamma": 150.0}, seed=3, plume_k=293.0, blind_half=False)
    from pyproj import CRS

    ds.attrs.update(
        crs=CRS.from_epsg(32613).to_wkt(),
        transform=[3.0, 0.0, 500000.0, 0.0, -3.0, 3500000.0],
        acquisition_time="2026-06-21T18:30:00Z",
    )
    result = detect_lwir(ds, lib, LwirOptions(plume_temperature_k=293.0), progress=False)
    out = tmp_path_factory.mktemp("lwir-products")
    files = write_lwir_products(result, out)
    return result, truth, out, files


def test_gas_file_names_are_file_safe():
    assert gas_file_name("1,1,1-Trichloroethane") == "enhancement_1-1-1-trichloroethane.tif"
    assert gas_file_name("ethyl acetate") == "enhancement_ethyl-acetate.tif"


def test_each_gas_map_reads_back_as_an_enhancement_map(products):
    result, truth, out, files = products
    for index, gas in enumerate(result["gas"].values):
        ds = read_enhancement(out / gas_file_name(str(gas)))
        assert ds.attrs["gas"] == gas and ds.attrs["units"] == "ppm m"
        np.testing.assert_allclose(ds["enhancement"].values, result["column_ppm_m"].values[index], rtol=1e-6)
        np.testing.assert_allclose(ds["uncertainty"].values, result["column_sigma_ppm_m"].values[index], rtol=1e-6)
        assert ds.attrs["pixel_size_m"] == pytest.approx(3.0)


def test_labels_identification_and_stac(products):
    import rasterio

    result, truth, out, files = products
    with rasterio.open(out / "labels.tif") as src:
        labels = src.read(1)
        table = json.loads(src.tags()["label_table"])
        assert src.nodata == -9999
    np.testing.assert_array_equal(labels, result["label"].values)
    assert "beta+gamma" in table
    summary = json.loads((out / "identification.json").read_text())
    (plume,) = summary["plumes"]
    assert sorted(plume["gases"]) == ["beta", "gamma"]
    assert plume["columns_ppm_m"]["gamma"] > plume["columns_ppm_m"]["beta"] > 0
    with open(out / "identification.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert tuple(rows[0]) == CSV_COLUMNS and {r["gas"] for r in rows} == {"beta", "gamma"}
    item = json.loads((out / "item.json").read_text())
    assert item["properties"]["plumetrace:identified_gases"] == ["beta", "gamma"]
    assert {"labels", "identification", "enhancement_beta"} <= set(item["assets"])
    assert (out / "collection.json").is_file()


def test_each_gas_map_carries_the_probability_of_its_gas_in_each_plume(products):
    result, truth, out, files = products
    plume_ids = result["plume_id"].values
    for gas in result["gas"].values:
        probability = read_enhancement(out / gas_file_name(str(gas)))["gas_probability"].values
        assert np.isnan(probability[plume_ids == 0]).all()
        for record in result.attrs["identification"]:
            expected = record["gas_probability"].get(str(gas), 0.0)
            np.testing.assert_allclose(probability[plume_ids == record["plume_id"]], expected, rtol=1e-6)
