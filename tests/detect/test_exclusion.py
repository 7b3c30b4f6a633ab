"""A region kept out of the background statistics (``detect_scene(exclude=…)``, ``plumetrace detect --exclude``)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from _detect_synthetic import disc_plume, georeferenced_disc_scene, synthetic_scene

from plumetrace.detect.engine import detect_scene
from plumetrace.errors import InvalidFileError, InvalidInputError

WINDOW = (2100.0, 2480.0)


@pytest.mark.parametrize(
    "stats, method, lazy", [("scene", "mf", False), ("column", "mf", False), ("column", "ace", True)]
)
def test_excluded_pixels_leave_the_statistics_and_stay_retrieved(stats, method, lazy):
    """Excluding pixels gives the filter of the other pixels' statistics: the same as making them invalid, except
    that the excluded pixels are still retrieved. The region holds a plume, so leaving it in moves every estimate."""
    truth = disc_plume(160, 20, 3000.0, centre=(70, 10), radius=8.0)
    scene, _, _ = synthetic_scene(rows=160, cols=20, seed=41, plume_ppm_m=truth)
    exclude = np.zeros((160, 20), dtype=bool)
    exclude[40:100, 2:18] = True
    options = dict(window_nm=WINDOW, stats=stats, method=method, robust=False, flare_factor=np.inf, progress=False)
    holes = scene.copy(deep=True)
    holes["radiance"].values[exclude] = np.nan
    if lazy:  # the block-streaming statistics pass (a dask array), not the in-memory column pass
        scene, holes = scene.chunk({"y": 32}), holes.chunk({"y": 32})
    excluded = detect_scene(scene, exclude=exclude, **options)
    invalid = detect_scene(holes, **options)

    a, b = excluded["enhancement"].values, invalid["enhancement"].values
    sigma = float(np.nanmedian(invalid["uncertainty"].values))
    assert np.isfinite(a).all() and np.isnan(b[exclude]).all()
    # Not bit-identical: the pilot lines (the float32 centring shift) differ where the holes are.
    np.testing.assert_allclose(a[~exclude], b[~exclude], rtol=0, atol=0.02 * sigma)
    assert excluded.attrs["background_excluded_pixels"] == exclude.sum()
    plain = detect_scene(scene, **options)
    assert plain.attrs["background_excluded_pixels"] == 0
    assert np.mean(a[~exclude] - plain["enhancement"].values[~exclude]) > 0.1 * sigma  # the plume had pulled them low


def test_excluding_the_plume_region_removes_the_plume_from_the_background():
    """A broad plume on 40 % of the scene biases the plain filter low; with its region excluded, it does not."""
    rows, cols = 120, 60
    truth = disc_plume(rows, cols, 800.0, radius=30.0)
    scene, truth, _ = synthetic_scene(rows=rows, cols=cols, plume_ppm_m=truth, seed=42)
    region = np.hypot(*np.indices((rows, cols)) - np.array([[[rows / 2]], [[cols / 2]]])) < 33.0
    options = dict(window_nm=WINDOW, stats="scene", robust=False, progress=False)
    inside = truth > 0
    plain = detect_scene(scene, **options)["enhancement"].values
    excluded = detect_scene(scene, exclude=region, **options)["enhancement"].values
    ratio_plain = plain[inside].mean() / truth[inside].mean()
    ratio_excluded = excluded[inside].mean() / truth[inside].mean()
    assert ratio_plain < 0.8
    assert 0.93 < ratio_excluded < 1.07


@pytest.mark.parametrize(
    "options, field",
    [
        ({"method": "sparse"}, "exclude"),
        ({"stats": "cluster"}, "exclude"),
        ({"exclude_shape": (10, 10)}, "exclude"),
        ({"exclude_dtype": np.float32}, "exclude"),
    ],
)
def test_bad_exclusion_is_a_clear_error(options, field):
    scene, _, _ = synthetic_scene(rows=60, cols=8, seed=43)
    shape = options.pop("exclude_shape", (60, 8))
    dtype = options.pop("exclude_dtype", bool)
    exclude = np.zeros(shape, dtype=dtype)
    exclude[:5] = 1
    with pytest.raises(InvalidInputError, match=f"^{field}: "):
        detect_scene(scene, window_nm=WINDOW, exclude=exclude, progress=False, **options)


def _polygon_around(scene, rows: slice, cols: slice) -> dict:
    """A lon/lat polygon whose inside holds the centres of the pixels ``rows`` × ``cols`` (UTM 13N scene)."""
    from pyproj import Transformer

    a, _, c, _, e, f = scene.attrs["transform"]
    x0, x1 = c + a * cols.start, c + a * cols.stop
    y0, y1 = f + e * rows.start, f + e * rows.stop
    to_lonlat = Transformer.from_crs("EPSG:32613", "EPSG:4326", always_xy=True)
    ring = [to_lonlat.transform(x, y) for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0))]
    return {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": [ring]}}


def test_exclusion_map_places_lonlat_polygons_on_the_pixels(tmp_path):
    from plumetrace.detect.exclusion import exclusion_map

    scene, _ = georeferenced_disc_scene(44, rows=40, cols=12)
    path = tmp_path / "region.geojson"
    path.write_text(
        json.dumps({"type": "FeatureCollection", "features": [_polygon_around(scene, slice(10, 20), slice(3, 7))]})
    )
    expected = np.zeros((40, 12), dtype=bool)
    expected[10:20, 3:7] = True
    np.testing.assert_array_equal(exclusion_map(path, scene), expected)

    far = tmp_path / "far.geojson"
    far.write_text(json.dumps({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}))
    with pytest.raises(InvalidFileError, match="far.geojson: features: the polygons cover no pixel"):
        exclusion_map(far, scene)
    raw, _, _ = synthetic_scene(rows=40, cols=12, seed=45)
    with pytest.raises(InvalidInputError, match="no georeferencing"):
        exclusion_map(path, raw)


def test_cli_exclude(run_cli, tmp_path):
    from plumetrace.io.envi import write_envi

    scene, _ = georeferenced_disc_scene(46, rows=120, cols=12)
    path = write_envi(scene, tmp_path / "scene.img")
    region = tmp_path / "region.geojson"
    region.write_text(
        json.dumps({"type": "FeatureCollection", "features": [_polygon_around(scene, slice(50, 70), slice(2, 10))]})
    )
    out = tmp_path / "out"
    code, _, stderr = run_cli("detect", path, "--out", out, "--window", "2100,2480", "--exclude", region)
    assert code == 0, stderr
    item = json.loads((out / "item.json").read_text())
    assert item["properties"]["plumetrace:background_excluded_pixels"] == 20 * 8

    far = tmp_path / "far.geojson"
    far.write_text(json.dumps({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}))
    bad_out = tmp_path / "bad"
    code, _, stderr = run_cli("detect", path, "--out", bad_out, "--exclude", far)
    assert code == 2 and "far.geojson: features:" in stderr and len(stderr.strip().splitlines()) == 1
    assert not bad_out.exists()


def test_downwind_sector_points_downwind():
    from plumetrace.detect.exclusion import downwind_sector

    region = downwind_sector((41, 41), (20.0, 20.0), 270.0, half_angle_deg=30.0, disc_px=3.0)  # wind from the west
    assert region[20, 40] and not region[20, 0]  # east of the source, not west
    assert region[20 - 10, 20 + 20] and not region[20 - 15, 20 + 15]  # 27° off the axis in, 45° out
    assert region[20, 18] and not region[20, 16]  # the disc around the source
    north = downwind_sector((41, 41), (20.0, 20.0), 180.0, half_angle_deg=30.0, disc_px=0.0)  # from the south
    assert north[0, 20] and not north[40, 20]  # rows run southward: downwind is row 0
