"""PRISMA L1 HE5: a synthetic file in the real layout (lines, bands, samples; descending λ; flagged zeros)."""

from __future__ import annotations

from pathlib import Path

import dask.array as da
import h5py
import numpy as np
import pytest

from plumetrace.errors import InvalidFileError, InvalidInputError, MissingFileError
from plumetrace.io.prisma import PRISMA_SWATH, read_prisma_l1

LINES, SAMPLES = 5, 4
CW_VNIR = np.array([0.0, 980.0, 900.0, 800.0, 700.0, 0.0])  # descending, flagged zeros
FWHM_VNIR = np.array([0.0, 11.0, 10.0, 9.0, 8.0, 0.0])
CW_SWIR = np.array([2450.0, 2300.0, 2150.0, 1000.0, 0.0])
FWHM_SWIR = np.array([9.5, 9.0, 8.5, 13.0, 0.0])
SCALE_VNIR, SCALE_SWIR = 100.0, 200.0


def _dn(nbands: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).integers(1000, 60000, size=(LINES, nbands, SAMPLES), dtype=np.uint16)


def write_prisma_like(
    path: Path, *, cw_swir: np.ndarray = CW_SWIR, swir_dn: np.ndarray | None = None, drop: str | None = None
) -> tuple[Path, np.ndarray, np.ndarray]:
    vnir_dn, swir_dn = _dn(CW_VNIR.size, 1), _dn(CW_SWIR.size, 2) if swir_dn is None else swir_dn
    with h5py.File(path, "w") as handle:
        attrs = {
            "List_Cw_Vnir": CW_VNIR.astype(np.float32),
            "List_Fwhm_Vnir": FWHM_VNIR.astype(np.float32),
            "List_Cw_Swir": cw_swir.astype(np.float32),
            "List_Fwhm_Swir": FWHM_SWIR.astype(np.float32),
            "ScaleFactor_Vnir": np.float32(SCALE_VNIR),
            "ScaleFactor_Swir": np.float32(SCALE_SWIR),
            "Offset_Vnir": np.float32(0.0),
            "Offset_Swir": np.float32(0.0),
            "Product_StartTime": np.bytes_("2021-06-15T10:22:05.123"),
            "Sun_zenith_angle": np.float32(27.5),
        }
        for key, value in attrs.items():
            if key != drop:
                handle.attrs[key] = value
        fields = handle.create_group(f"{PRISMA_SWATH}/Data Fields")
        fields.create_dataset("VNIR_Cube", data=vnir_dn)
        fields.create_dataset("SWIR_Cube", data=swir_dn)
        geo = handle.create_group(f"{PRISMA_SWATH}/Geolocation Fields")
        geo.create_dataset("Latitude_SWIR", data=np.full((LINES, SAMPLES), 41.9, np.float32))
        geo.create_dataset("Longitude_SWIR", data=np.full((LINES, SAMPLES), 12.5, np.float32))
    return path, vnir_dn, swir_dn


def test_reads_merges_and_sorts_bands(tmp_path):
    path, vnir_dn, swir_dn = write_prisma_like(tmp_path / "PRS_L1_STD_OFFL_20210615.he5")
    scene = read_prisma_l1(path)
    np.testing.assert_allclose(scene["wavelength"].values, [700, 800, 900, 980, 1000, 2150, 2300, 2450], rtol=1e-6)
    np.testing.assert_allclose(scene["fwhm"].values, [8, 9, 10, 11, 13, 8.5, 9.0, 9.5], rtol=1e-6)
    assert isinstance(scene["radiance"].data, da.Array)
    values = scene["radiance"].values
    # W m-2 sr-1 um-1 → uW cm-2 sr-1 nm-1 is a factor 0.1; radiance = DN / ScaleFactor
    np.testing.assert_allclose(values[2, 3, 0], vnir_dn[2, 4, 3] / SCALE_VNIR * 0.1, rtol=1e-6)  # 700 nm
    np.testing.assert_allclose(values[2, 3, 4], swir_dn[2, 3, 3] / SCALE_SWIR * 0.1, rtol=1e-6)  # 1000 nm
    np.testing.assert_allclose(values[:, :, 7], swir_dn[:, 0, :] / SCALE_SWIR * 0.1, rtol=1e-6)  # 2450 nm
    assert scene.attrs["sensor"] == "prisma"
    assert scene.attrs["acquisition_time"] == "2021-06-15T10:22:05.123Z"
    assert scene.attrs["solar_zenith_deg"] == pytest.approx(27.5)
    assert float(scene["lat"].mean()) == pytest.approx(41.9)


def test_swir_only_and_point_reads(tmp_path):
    path, _, swir_dn = write_prisma_like(tmp_path / "p.he5")
    scene = read_prisma_l1(path, detectors=("swir",))
    np.testing.assert_allclose(scene["wavelength"].values, [1000, 2150, 2300, 2450], rtol=1e-6)
    pixel = scene["radiance"].isel(y=1, x=2).values
    np.testing.assert_allclose(pixel, swir_dn[1, [3, 2, 1, 0], 2] / SCALE_SWIR * 0.1, rtol=1e-6)
    rows = scene["radiance"].isel(y=[0, 3]).values
    np.testing.assert_allclose(rows[1, :, 3], swir_dn[3, 0, :] / SCALE_SWIR * 0.1, rtol=1e-6)


def test_missing_wavelength_list(tmp_path):
    path, _, _ = write_prisma_like(tmp_path / "p.he5", drop="List_Cw_Swir")
    with pytest.raises(InvalidFileError, match=r"p\.he5: List_Cw_Swir: missing"):
        read_prisma_l1(path)


def test_missing_scale_factor(tmp_path):
    path, _, _ = write_prisma_like(tmp_path / "p.he5", drop="ScaleFactor_Swir")
    with pytest.raises(InvalidFileError, match="ScaleFactor_Swir: missing"):
        read_prisma_l1(path)


def test_wavelength_count_mismatch(tmp_path):
    path, _, _ = write_prisma_like(tmp_path / "p.he5", cw_swir=CW_SWIR[:4])
    with pytest.raises(InvalidFileError, match="List_Cw_Swir: 4 values for 5 bands"):
        read_prisma_l1(path)


def test_all_fill(tmp_path):
    path, _, _ = write_prisma_like(tmp_path / "p.he5", swir_dn=np.zeros((LINES, 5, SAMPLES), np.uint16))
    with pytest.raises(InvalidFileError, match="every pixel is fill"):
        read_prisma_l1(path, detectors=("swir",))


def test_not_prisma(tmp_path):
    with h5py.File(tmp_path / "x.he5", "w") as handle:
        handle.create_dataset("foo", data=[1])
    with pytest.raises(InvalidFileError, match="not a PRISMA L1"):
        read_prisma_l1(tmp_path / "x.he5")
    (tmp_path / "bad.he5").write_bytes(b"not hdf5")
    with pytest.raises(InvalidFileError, match="format: not a readable HDF5"):
        read_prisma_l1(tmp_path / "bad.he5")
    with pytest.raises(MissingFileError):
        read_prisma_l1(tmp_path / "none.he5")


def test_unknown_detector(tmp_path):
    path, _, _ = write_prisma_like(tmp_path / "p.he5")
    with pytest.raises(InvalidInputError, match="detectors"):
        read_prisma_l1(path, detectors=("tir",))
