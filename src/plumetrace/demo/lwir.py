"""Demo step: a thermal-infrared scene with a two-gas plume, its gases identified and their columns retrieved.

plumetrace ships no gas spectra it may not redistribute, so the step reads six NIST spectra from the shared
validation data (``$PLUMETRACE_SHARED_DATA/lwir-gas-spectra-nist``; :mod:`plumetrace.shared_data`) and says it
skipped when they are absent. The scene (HyTES-like, 96 × 96 pixels, 256 channels over 7.5-12 µm) holds one plume of
acetone and ammonia, 6 K colder than the ground; detection is told the contrast and the atmosphere, as in
``benchmarks/lwir_identify.py``; the library offers six gases to choose from.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["DEMO_GASES", "LIBRARY_GASES", "demo_step"]

Row = tuple[str, str, str, str]

#: The plume's gases and their columns, ppm·m.
DEMO_GASES = {"acetone": 150.0, "ammonia": 60.0}
#: The gases the identification chooses among (their NIST file names).
LIBRARY_GASES = ("acetone", "ammonia", "methanol", "toluene", "dichloromethane", "chloroform")
CONTRAST_K = -6.0


def _library_folder() -> Path | None:
    from plumetrace.shared_data import shared_data_dir

    root = shared_data_dir()
    folder = root / "lwir-gas-spectra-nist" / "jdx" if root is not None else None
    if folder is None or not all((folder / f"{g}.jdx").is_file() for g in LIBRARY_GASES):
        return None
    return folder


def demo_step(ctx: Any) -> list[Row]:
    """Simulate the LWIR scene into ``<out>/lwir/``, detect and identify, and compare with the truth."""
    import shutil

    import numpy as np

    from plumetrace.detect.lwir.engine import detect_lwir
    from plumetrace.detect.lwir.options import LwirOptions
    from plumetrace.products.lwir import write_lwir_products
    from plumetrace.simulate.lwir import LwirPlume, LwirSceneOptions, simulate_lwir_scene
    from plumetrace.spectra.gas_library import load_gas_library

    folder = _library_folder()
    if folder is None:
        return [("lwir", "gases identified", "skipped", "no NIST spectra in $PLUMETRACE_SHARED_DATA")]
    out = Path(ctx.out_dir) / "lwir"
    library_dir = out / "library-links"
    library_dir.mkdir(parents=True)
    for gas in LIBRARY_GASES:  # the spectra are read where they are, never copied
        (library_dir / f"{gas}.jdx").symlink_to(folder / f"{gas}.jdx")
    library = load_gas_library(library_dir, wavenumber_range_cm1=(700.0, 1600.0))
    names = tuple(DEMO_GASES)
    plume = LwirPlume(names, tuple(DEMO_GASES.values()), CONTRAST_K, (48.0, 48.0), (18.0, 11.0), 30.0)
    options = LwirSceneOptions(shape=(96, 96), plumes=(plume,), atmosphere_in_scene=True)
    scene, truth = simulate_lwir_scene(options, library, seed=int(ctx.seed))
    result = detect_lwir(scene, library, LwirOptions(contrast_k=CONTRAST_K), progress=False)
    detection = out / "detect"
    detection.mkdir()
    write_lwir_products(result, detection)
    shutil.rmtree(library_dir)
    records = list(result.attrs.get("identification", []))
    if not records:
        return [("lwir", "gases identified", "no plume found", " + ".join(names))]
    best = max(records, key=lambda r: r.get("n_pixels", 0))
    found = tuple(best.get("gases", ()))
    # the retrieved columns averaged over the true plume, as benchmarks/lwir_identify.py scores them (the plume's own
    # mean runs over the pixels detected, edges included)
    inside = np.asarray(truth["plume_mask"].values, dtype=bool)
    gas_names = [str(g) for g in result["gas"].values]
    columns = {g: float(np.nanmean(result["column_ppm_m"].values[gas_names.index(g)][inside])) for g in found}
    rows: list[Row] = [
        (
            "lwir",
            f"gases identified among {len(LIBRARY_GASES)} (HyTES-like, {CONTRAST_K:+.0f} K contrast)",
            f"{' + '.join(found) or 'none'} (confidence {best.get('confidence', float('nan')):.2f})",
            " + ".join(names),
        )
    ]
    for gas, true_column in DEMO_GASES.items():
        value = columns.get(gas) if isinstance(columns, dict) else None
        shown = f"{value:.0f} ppm·m" if isinstance(value, (int, float)) else "not identified"
        rows.append(("lwir", f"{gas} column, mean over the true plume", shown, f"{true_column:.0f} ppm·m"))
    return rows
