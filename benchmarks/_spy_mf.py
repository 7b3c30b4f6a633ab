"""Spectral Python baseline, run as a child process: scene-wide matched filter on the window bands of an ENVI file.

    python benchmarks/_spy_mf.py RADIANCE.hdr TARGET.npy OUT.npy [--window 2122 2488]

Reads only the window bands from the file (``read_bands``), ``calc_stats`` over the whole scene, then
``matched_filter``. TARGET.npy holds the per-band unit-absorption k (per ppm·m, full band set); the target spectrum is
μ·(1 + k·s) with s = 1000 ppm·m, so SPy's normalised score × s is the enhancement in ppm·m. Imports only NumPy and
spectral so its time and memory are SPy's own.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import spectral

SCALE_PPM_M = 1000.0

__all__ = ["spy_matched_filter"]


def spy_matched_filter(window: np.ndarray, unit_absorption_per_ppm_m: np.ndarray) -> np.ndarray:
    """SPy scene-wide matched filter on window bands (rows, cols, nb) → enhancement (rows, cols) ppm·m, float32."""
    stats = spectral.calc_stats(window)
    target = stats.mean * (1.0 + unit_absorption_per_ppm_m * SCALE_PPM_M)
    score = spectral.matched_filter(window, target, background=stats)
    return np.asarray(score, dtype=np.float32) * SCALE_PPM_M


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("header")
    parser.add_argument("target")
    parser.add_argument("out")
    parser.add_argument("--window", type=float, nargs=2, default=(2122.0, 2488.0))
    args = parser.parse_args()
    t0 = time.perf_counter()
    img = spectral.envi.open(args.header)
    wl = np.asarray(img.bands.centers, dtype=float)
    idx = np.flatnonzero((wl >= args.window[0]) & (wl <= args.window[1]))
    data = img.read_bands(idx.tolist())
    t_read = time.perf_counter()
    enhancement = spy_matched_filter(data, np.load(args.target)[idx])
    t_done = time.perf_counter()
    np.save(args.out, enhancement)
    print(f"read_s={t_read - t0:.3f} compute_s={t_done - t_read:.3f}")


if __name__ == "__main__":
    main()
