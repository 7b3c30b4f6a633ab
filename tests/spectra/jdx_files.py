"""Tiny synthetic JCAMP-DX gas spectra for tests that must run without the shared NIST files."""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["QUANT_IR_UNITS", "write_jdx", "write_band_library"]

QUANT_IR_UNITS = "(micromol/mol)-1m-1 (base 10)"


def write_jdx(
    path: Path,
    *,
    title: str,
    y: np.ndarray,
    first_x: float = 600.0,
    delta_x: float = 0.5,
    yunits: str = QUANT_IR_UNITS,
    xunits: str = "cm-1",
    extra: dict[str, str] | None = None,
) -> Path:
    """A minimal JCAMP-DX 4.24 file, ``##XYDATA=(X++(Y..Y))`` in plain numbers, 5 ordinates a line."""
    lines = [
        f"##TITLE={title}",
        "##JCAMP-DX=4.24",
        "##DATA TYPE=INFRARED SPECTRUM",
        f"##XUNITS={xunits}",
        f"##YUNITS={yunits}",
        "##XFACTOR=1.0",
        "##YFACTOR=1.0",
        f"##FIRSTX={first_x}",
        f"##LASTX={first_x + delta_x * (y.size - 1)}",
        f"##DELTAX={delta_x}",
        f"##NPOINTS={y.size}",
    ]
    lines += [f"##{k}={v}" for k, v in (extra or {}).items()]
    lines.append("##XYDATA=(X++(Y..Y))")
    for start in range(0, y.size, 5):
        chunk = " ".join(f"{v:.8g}" for v in y[start : start + 5])
        lines.append(f"{first_x + delta_x * start:.6f} {chunk}")
    lines.append("##END=")
    path.write_text("\n".join(lines) + "\n")
    return path


def write_band_library(folder: Path, bands: dict[str, float]) -> Path:
    """A QUANT-IR-style folder: one file per gas (name → band centre, cm⁻¹), 650-1500 cm⁻¹, Gaussian bands of
    decadic peak 4e-4 per ppm·m and 15 cm⁻¹ width."""
    folder.mkdir(parents=True, exist_ok=True)
    x = 650.0 + 0.25 * np.arange(3401)
    for name, centre in bands.items():
        y = 4e-4 * np.exp(-0.5 * ((x - centre) / 15.0) ** 2)
        write_jdx(folder / f"{name}.jdx", title=name.title(), y=y, first_x=650.0, delta_x=0.25)
    return folder
