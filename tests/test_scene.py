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
    [
        ("uW cm-2 sr-1 nm-1", 1.0),
        ("W m-2 sr-1 um-1", 0.1),
        ("W/m2/sr/nm", 100.0),
        ("µW/cm2/sr/nm", 1.0),
        ("microwatts per square centimeter per steradian per nanometer", 1.0),
    ],
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


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"solar_zenith_deg": 95.0}, "solar_zenith_deg"),
        ({"solar_zenith_deg": -1.0}, "solar_zenith_deg"),
        ({"view_zenith_deg": 85.0}, "view_zenith_deg"),
        ({"acquisition_time": "yesterday"}, "acquisition_time"),
        ({"crs": "not a crs", "transform": (60, 0, 0, 0, -60, 0)}, "crs"),
        ({"crs": "EPSG:32613", "transform": (0, 0, 0, 0, -60, 0)}, "transform"),
        ({"crs": "EPSG:32613", "transform": (60, 0, float("nan"), 0, -60, 0)}, "transform"),
    ],
)
def test_impossible_metadata_rejected_naming_the_field(kw, field):
    """validate_scene runs the checks every reader runs (plumetrace.scene_checks): info and detect agree."""
    with pytest.raises(InvalidFileError, match=f"memory: {field}: "):
        _scene(**kw)


def test_band_wider_than_half_its_centre_rejected():
    with pytest.raises(InvalidFileError, match="fwhm: band 2 is 8500 nm wide"):
        make_scene(np.ones((2, 2, 3), dtype=np.float32), [2000, 2100, 2200], [8.0, 8500.0, 8.0])


def test_radiance_sample_checks():
    from plumetrace.scene_checks import check_radiance_sample

    rng = np.random.default_rng(0)
    good = (0.1 + 5 * rng.random((3, 50, 20))).astype("<f4")
    check_radiance_sample("cube", good, byte_order_where="cube.hdr")
    check_radiance_sample("cube", np.zeros((3, 50, 20), dtype="<f4"))  # an empty cube is no evidence
    with pytest.raises(InvalidFileError, match="cube.hdr: byte order: .*byte-swapped"):
        check_radiance_sample("cube", good.astype(">f4").view("<f4"), byte_order_where="cube.hdr")
    with pytest.raises(InvalidFileError, match="cube.hdr: byte order: .*byte-swapped"):
        check_radiance_sample("cube", (good * 100).astype(">i2").view("<i2"), byte_order_where="cube.hdr")
    with pytest.raises(InvalidFileError, match="cube: radiance: .*negative"):
        check_radiance_sample("cube", -good, byte_order_where="cube.hdr")
    with pytest.raises(InvalidFileError, match="cube: radiance: median"):
        check_radiance_sample("cube", good * 1e9, byte_order_where="cube.hdr")
    with pytest.raises(InvalidFileError, match="cube: radiance: every pixel is fill"):
        check_radiance_sample("cube", np.full((2, 3), -9999.0, dtype="<f4"))
