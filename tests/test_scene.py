import numpy as np
import pytest

from plumetrace.errors import InvalidFileError, InvalidInputError
from plumetrace.scene import airmass_factor, make_scene, pixel_size_m, radiance_unit_scale


def _scene(**kw):
    rad = np.ones((4, 3, 5), dtype=np.float32)
    return make_scene(rad, [2000, 2100, 2200, 2300, 2400], [8.0] * 5, **kw)


def test_make_scene_has_contract_fields():
    scene = _scene(sensor="emit", solar_zenith_deg=30.0)
    assert scene["radiance"].dims == ("y", "x", "band")
    assert scene["radiance"].attrs["units"] == "uW cm-2 sr-1 nm-1"
    assert scene["wavelength"].attrs["units"] == "nm"
    assert scene.attrs["solar_zenith_deg"] == 30.0


@pytest.mark.parametrize(
    ("units", "scale"),
    [("uW cm-2 sr-1 nm-1", 1.0), ("W m-2 sr-1 um-1", 0.1), ("W/m2/sr/nm", 100.0), ("µW/cm2/sr/nm", 1.0),
     ("microwatts per square centimeter per steradian per nanometer", 1.0)],
)
def test_radiance_unit_scale(units, scale):
    assert radiance_unit_scale(units) == pytest.approx(scale)


def test_unknown_units_rejected():
    with pytest.raises(InvalidInputError, match="radiance units"):
        radiance_unit_scale("furlongs per fortnight")


def test_non_monotonic_wavelength_rejected():
    with pytest.raises(InvalidFileError, match="wavelength: not strictly increasing"):
        make_scene(np.ones((2, 2, 3), np.float32), [2000, 1990, 2100], [8, 8, 8], source="x.hdr")


def test_fwhm_length_mismatch_rejected():
    with pytest.raises(ValueError):
        make_scene(np.ones((2, 2, 3), np.float32), [2000, 2010, 2100], [8, 8], source="x.hdr")


def test_airmass_factor_nadir_sun_at_60_degrees():
    assert airmass_factor(_scene(solar_zenith_deg=60.0, view_zenith_deg=0.0)) == pytest.approx(3.0)


def test_pixel_size_from_projected_transform():
    scene = _scene(crs="EPSG:32611", transform=(60.0, 0.0, 500000.0, 0.0, -60.0, 3800000.0))
    assert pixel_size_m(scene) == pytest.approx(60.0)


def test_pixel_size_missing_is_clear():
    with pytest.raises(InvalidInputError, match="pixel size"):
        pixel_size_m(_scene())
