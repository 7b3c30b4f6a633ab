"""EnMAP L1B: GeoTIFF cubes + METADATA.XML in the DLR layout, written here with rasterio and read back."""

from __future__ import annotations

from pathlib import Path

import dask.array as da
import numpy as np
import pytest
import rasterio

from plumetrace.errors import InvalidFileError, MissingFileError
from plumetrace.io.enmap import read_enmap_l1b

pytestmark = pytest.mark.filterwarnings("ignore::rasterio.errors.NotGeoreferencedWarning")  # L1B: sensor geometry

LINES, SAMPLES = 6, 5
# VNIR bands first, then SWIR; they overlap near 950 nm
BANDS = [  # (centre nm, fwhm nm, gain, offset)
    (420.0, 6.5, 0.003, -0.5),
    (650.0, 7.0, 0.002, -0.4),
    (960.0, 8.0, 0.0015, -0.3),
    (940.0, 10.5, 0.0012, -0.2),
    (1650.0, 9.0, 0.001, -0.1),
    (2300.0, 8.5, 0.0008, 0.0),
]
BASE = "ENMAP01-____L1B-DT0000012345_20230704T101010Z_001_V010303_20230705T000000Z"


def _xml(bands=BANDS, *, drop: str | None = None, channels=(3, 3)) -> str:
    items = []
    for number, (centre, fwhm, gain, offset) in enumerate(bands, start=1):
        fields = {"wavelengthCenterOfBand": centre, "FWHMOfBand": fwhm, "GainOfBand": gain, "OffsetOfBand": offset}
        inner = "".join(f"<{k}>{v}</{k}>" for k, v in fields.items() if k != drop)
        items.append(f'<bandID number="{number}">{inner}</bandID>')
    images = "".join(
        f"<{d}><name>{BASE}-SPECTRAL_IMAGE_{d.upper()}.TIF</name><channels>{n}</channels>"
        f"<dimension><rows>{LINES}</rows><columns>{SAMPLES}</columns></dimension></{d}>"
        for d, n in zip(("vnir", "swir"), channels)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><level_X>'
        "<base><temporalCoverage><startTime>2023-07-04T10:10:10.500Z</startTime></temporalCoverage></base>"
        f"<specific><bandCharacterisation>{''.join(items)}</bandCharacterisation>"
        "<sunElevationAngle><center>55.0</center></sunElevationAngle></specific>"
        f"<product><image>{images}</image></product></level_X>"
    )


def write_enmap_like(folder: Path, *, xml: str | None = None, fill_all: bool = False) -> tuple[Path, np.ndarray]:
    folder.mkdir(parents=True, exist_ok=True)
    dn = np.random.default_rng(3).integers(100, 20000, size=(6, LINES, SAMPLES)).astype(np.int16)
    dn[:, 0, 0] = -32768
    if fill_all:
        dn[:] = -32768
    for detector, index in (("VNIR", slice(0, 3)), ("SWIR", slice(3, 6))):
        profile = dict(driver="GTiff", width=SAMPLES, height=LINES, count=3, dtype="int16", nodata=-32768)
        with rasterio.open(folder / f"{BASE}-SPECTRAL_IMAGE_{detector}.TIF", "w", **profile) as dst:
            dst.write(dn[index])
    (folder / f"{BASE}-METADATA.XML").write_text(xml if xml is not None else _xml())
    return folder, dn


def test_reads_product_folder(tmp_path):
    folder, dn = write_enmap_like(tmp_path / BASE)
    scene = read_enmap_l1b(folder)
    np.testing.assert_allclose(scene["wavelength"].values, [420, 650, 940, 960, 1650, 2300])
    np.testing.assert_allclose(scene["fwhm"].values, [6.5, 7.0, 10.5, 8.0, 9.0, 8.5])
    assert isinstance(scene["radiance"].data, da.Array)
    values = scene["radiance"].values
    # radiance = DN * gain + offset in mW m-2 sr-1 nm-1 = 0.1 uW cm-2 sr-1 nm-1
    for out_band, (in_band, (_, _, gain, offset)) in enumerate((i, BANDS[i]) for i in (0, 1, 3, 2, 4, 5)):
        np.testing.assert_allclose(values[1:, :, out_band], 0.1 * (dn[in_band, 1:] * gain + offset), rtol=1e-5)
    assert np.all(np.isnan(values[0, 0]))  # nodata
    assert scene.attrs["sensor"] == "enmap"
    assert scene.attrs["acquisition_time"] == "2023-07-04T10:10:10.500Z"
    assert scene.attrs["solar_zenith_deg"] == pytest.approx(35.0)


def test_metadata_path_works_too(tmp_path):
    folder, _ = write_enmap_like(tmp_path / BASE)
    assert read_enmap_l1b(folder / f"{BASE}-METADATA.XML").sizes["band"] == 6


def test_missing_fwhm(tmp_path):
    folder, _ = write_enmap_like(tmp_path / BASE, xml=_xml(drop="FWHMOfBand"))
    with pytest.raises(InvalidFileError, match="METADATA.XML: FWHMOfBand: missing for band 1"):
        read_enmap_l1b(folder)


def test_band_count_mismatch(tmp_path):
    folder, _ = write_enmap_like(tmp_path / BASE, xml=_xml(BANDS[:5]))
    with pytest.raises(InvalidFileError, match="bandCharacterisation: 5 bands listed"):
        read_enmap_l1b(folder)


def test_channels_disagree_with_tif(tmp_path):
    folder, _ = write_enmap_like(tmp_path / BASE, xml=_xml(channels=(2, 4)))
    with pytest.raises(InvalidFileError, match="bands: 3 in the TIFF, metadata lists 2"):
        read_enmap_l1b(folder)


def test_malformed_xml(tmp_path):
    folder, _ = write_enmap_like(tmp_path / BASE, xml="<level_X><base>")
    with pytest.raises(InvalidFileError, match="XML"):
        read_enmap_l1b(folder)


def test_all_fill(tmp_path):
    folder, _ = write_enmap_like(tmp_path / BASE, fill_all=True)
    with pytest.raises(InvalidFileError, match="every pixel is fill"):
        read_enmap_l1b(folder)


def test_missing_cube_and_metadata(tmp_path):
    folder, _ = write_enmap_like(tmp_path / BASE)
    (folder / f"{BASE}-SPECTRAL_IMAGE_SWIR.TIF").unlink()
    with pytest.raises(MissingFileError, match="SWIR cube not found"):
        read_enmap_l1b(folder)
    (tmp_path / "empty").mkdir()
    with pytest.raises(MissingFileError, match="EnMAP metadata not found"):
        read_enmap_l1b(tmp_path / "empty")
