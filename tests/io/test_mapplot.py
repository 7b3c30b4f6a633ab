"""Map quicklooks: readable size, map coordinates, scale bar length, north arrow direction."""

from __future__ import annotations

import numpy as np
import pytest

from plumetrace.io.cog import write_quicklook
from plumetrace.io.mapplot import DPI, PAGE_INCHES, _nice_length, grid_frame

UTM_11N = "EPSG:32611"


def _png_size(path):
    import struct

    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


@pytest.mark.parametrize("shape", [(12, 16), (80, 120), (100, 6)])
def test_quicklook_is_readable_whatever_the_scene_size(tmp_path, shape):
    data = np.random.default_rng(0).normal(0, 30, shape)
    path = write_quicklook(data, tmp_path / "q.png", crs=UTM_11N, transform=[30, 0, 500000, 0, -30, 4000000])
    assert _png_size(path) == (PAGE_INCHES[0] * DPI, PAGE_INCHES[1] * DPI) == (900, 700)


def test_projected_grid_is_drawn_in_km_and_geographic_in_degrees():
    frame = grid_frame((100, 200), UTM_11N, [30.0, 0.0, 500000.0, 0.0, -30.0, 4000000.0])
    assert frame.extent == pytest.approx((500.0, 506.0, 3997.0, 4000.0))
    assert frame.xlabel == "easting (km)" and frame.metres_per_unit == (1000.0, 1000.0) and frame.north_deg == 0
    x, y = frame.to_plot(0.5, 0.5)
    assert (x, y) == pytest.approx((500.015, 3999.985))
    geo = grid_frame((10, 10), "EPSG:4326", [0.001, 0.0, -102.0, 0.0, -0.001, 31.9])
    assert geo.xlabel == "longitude (°)"
    east, north = geo.metres_per_unit
    assert east == pytest.approx(94596, rel=1e-3) and north == pytest.approx(110885, rel=1e-3)
    raw = grid_frame((10, 20))
    assert raw.metres_per_unit is None and raw.xlabel == "column"


def test_rotated_grid_turns_the_north_arrow():
    # grid rotated 30° clockwise: columns point 30° north of east... north lies 30° anticlockwise from page up
    t = np.deg2rad(30.0)
    a, b, d, e = 30 * np.cos(t), 30 * np.sin(t), -30 * np.sin(t), -30 * np.cos(t)
    frame = grid_frame((50, 50), UTM_11N, [a, b, 500000.0, d, e, 4000000.0])
    assert abs(frame.north_deg) == pytest.approx(30.0, abs=1e-6)
    assert frame.extent == pytest.approx((0.0, 1.5, 1.5, 0.0))


@pytest.mark.parametrize("limit, expected", [(1234.0, 1000.0), (460.0, 200.0), (7.5, 5.0), (0.0, 0.0)])
def test_scale_bar_lengths_are_round(limit, expected):
    assert _nice_length(limit) == expected


def test_quicklook_tick_labels_have_no_offset(tmp_path, monkeypatch):
    """The coordinates are written whole (3999.5 km), never as an offset added in the corner (+3.99e3)."""
    from matplotlib.figure import Figure

    saved = {}
    real = Figure.savefig

    def keep(self, *args, **kwargs):
        saved["fig"] = self
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Figure, "savefig", keep)
    write_quicklook(np.zeros((80, 120)), tmp_path / "q.png", crs=UTM_11N, transform=[30, 0, 500000, 0, -30, 4000000])
    ax = saved["fig"].axes[0]
    assert ax.xaxis.get_major_formatter().get_offset() == "" and ax.yaxis.get_major_formatter().get_offset() == ""
    assert ax.get_aspect() == 1.0  # one km as long east as north
    assert any("m" == t.get_text().split()[-1] or "km" in t.get_text() for t in saved["fig"].texts)
