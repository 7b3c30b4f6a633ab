"""Spectral data: bundled absorption and reflectance tables, band responses, target signatures."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["bundled_path"]


def bundled_path(name: str) -> Path:
    """Path of a bundled data file in ``plumetrace/spectra/data`` (see its SOURCE.md)."""
    path = Path(str(resources.files("plumetrace.spectra") / "data" / name))
    if not path.is_file():
        raise FileNotFoundError(f"bundled data file {name!r} is missing from the installation")
    return path
