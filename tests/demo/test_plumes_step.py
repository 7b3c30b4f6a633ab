from __future__ import annotations

from plumetrace.demo import DemoContext
from plumetrace.demo.plumes import demo_step


def test_demo_step_skips_cleanly_without_a_detection_product(tmp_path):
    rows = demo_step(DemoContext(out_dir=tmp_path, seed=1))
    assert rows == [("plumes", "skipped", "no enhancement map from the detect step", "-")]


def test_demo_step_end_to_end_on_a_simulated_scene(tmp_path):
    from plumetrace.detect.engine import detect_scene
    from plumetrace.io.cog import write_enhancement
    from plumetrace.simulate.scene import simulate_scene

    scene, truth = simulate_scene(
        sensor="emit", shape=(64, 64), rate_kg_h=5000.0, wind_speed_m_s=3.0, wind_dir_deg=270.0, seed=2
    )
    path = tmp_path / "enhancement.tif"
    write_enhancement(detect_scene(scene, stats="scene", progress=False), path)
    a, b, c, d, e, f = scene.attrs["transform"][:6]
    sy, sx = truth.source_yx
    ctx = DemoContext(out_dir=tmp_path, seed=1)
    ctx.products.update(
        enhancement_path=path,
        truth={
            "rate_kg_h": 5000.0,
            "wind_speed_m_s": 3.0,
            "wind_dir_deg": 270.0,
            "source_yx": [sy, sx],
            "pixel_size_m": 60.0,
            "source_map_xy": [a * (sx + 0.5) + b * (sy + 0.5) + c, d * (sx + 0.5) + e * (sy + 0.5) + f],
        },
    )
    rows = {quantity: (result, truth_text) for _, quantity, result, truth_text in demo_step(ctx)}
    assert int(rows["plumes found"][0]) >= 1
    error_m = float(rows["source position error"][0].split()[0])
    assert error_m <= 3 * 60.0  # within three EMIT pixels of the true source
    csf = float(rows["emission rate, CSF"][0].split()[0])
    assert 2500.0 < csf < 10000.0  # CSF within a factor of two of the true 5000 kg/h
    assert (tmp_path / "plumes" / "plumes.geojson").exists()
    assert ctx.products["plumes_csv_path"].exists()


def test_demo_row_joins_a_fragmented_plume_into_one_complex():
    from plumetrace.demo.plumes import fragmented_row

    stage, _, result, truth = fragmented_row(7)
    n_components, n_complexes = int(result.split()[0]), int(result.split()[3])
    assert stage == "plumes" and truth == "1 source"
    assert n_components >= 2 and n_complexes == 1
    assert float(result.split("source error ")[1].split()[0]) <= 20.0
