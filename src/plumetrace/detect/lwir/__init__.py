"""Thermal-infrared (7.5-13 µm) detection and identification of chemical plumes against a gas library.

``detect_lwir(scene, library, options)`` (:mod:`plumetrace.detect.lwir.engine`) is the entry point; see docs/lwir.md.
"""

from plumetrace.detect.lwir.options import LwirOptions

__all__ = ["LwirOptions"]
