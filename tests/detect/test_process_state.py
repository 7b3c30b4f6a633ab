"""The library leaves its host process alone: process tuning is an explicit call, caches are explicit."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from plumetrace.detect import tune_process
from plumetrace.spectra.target import cached_target


def test_detection_does_not_tune_the_process_unless_asked():
    """Run a detection in a fresh interpreter with ctypes.CDLL watched: only tune_process() opens libc."""
    code = """
import ctypes, sys
opened = []
real = ctypes.CDLL
ctypes.CDLL = lambda name, *a, **k: (opened.append(name), real(name, *a, **k))[1]
sys.path.insert(0, HERE)
from _detect_synthetic import synthetic_scene
from plumetrace.detect.engine import detect_scene
scene, _, _ = synthetic_scene(rows=60, cols=4)
detect_scene(scene, window_nm=(2100.0, 2480.0), stats="scene", progress=False)
assert "libc.so.6" not in opened, opened
from plumetrace.detect import tune_process
tune_process()
assert "libc.so.6" in opened, opened
"""
    subprocess.run(
        [sys.executable, "-c", f"HERE = {str(Path(__file__).parent)!r}" + code],
        check=True,
    )


def test_tune_process_reports_whether_it_took_effect():
    assert isinstance(tune_process(), bool)


def test_bundled_targets_are_cached_read_only():
    wavelength, fwhm = np.linspace(2100.0, 2480.0, 30), np.full(30, 8.5)
    cached_target.cache_clear()
    first = cached_target("ch4", wavelength, fwhm, airmass_factor=2.0)
    assert cached_target(" CH4 ", wavelength.copy(), fwhm, airmass_factor=2.0) is first
    assert cached_target("ch4", wavelength, fwhm, airmass_factor=2.5) is not first
    with pytest.raises(ValueError):
        first.unit_absorption[0] = 0.0
