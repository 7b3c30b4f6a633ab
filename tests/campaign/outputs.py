"""Read a run folder's products for comparison: table and GeoJSON contents and COG pixels, not timestamps."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import numpy as np

#: Files that record when and how long, not what: left out of the comparison.
TIMED = {"task.json", "run.json", "run.log.jsonl"}
#: JSON keys holding a time of writing (STAC ``created``/``updated``).
TIME_KEYS = {"created", "updated"}


def _written_now(value: Any) -> bool:
    """An ISO time within the last hour: when the file was written (an empty collection's temporal extent)."""
    from datetime import datetime, timezone

    try:
        stamp = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return False
    return stamp.tzinfo is not None and abs((datetime.now(timezone.utc) - stamp).total_seconds()) < 3600


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            k: _strip(v)
            for k, v in value.items()
            if k not in TIME_KEYS and not (k == "temporal" and any(_written_now(t) for t in _flat(v)))
        }
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def _flat(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [x for v in value.values() for x in _flat(v)]
    if isinstance(value, list):
        return [x for v in value for x in _flat(v)]
    return [value]


def products(run: Path) -> dict[str, Any]:
    """Relative path -> content of every product under ``run`` (hidden files and staging folders excluded)."""
    import pandas as pd
    import rasterio

    out: dict[str, Any] = {}
    for path in sorted(run.rglob("*")):
        rel = path.relative_to(run)
        if path.is_dir() or any(part.startswith(".") for part in rel.parts) or path.name in TIMED:
            continue
        suffix = path.suffix.lower()
        text = None
        if suffix in (".csv", ".json", ".geojson", ".kml", ".yaml"):
            text = path.read_text().replace(str(run), "<RUN>")  # a product may name its own folder
        if suffix == ".tif":
            with rasterio.open(path) as src:
                out[str(rel)] = (src.read(), src.transform, str(src.crs))
        elif suffix == ".csv":
            out[str(rel)] = pd.read_csv(io.StringIO(text))
        elif suffix in (".json", ".geojson"):
            out[str(rel)] = _strip(json.loads(text))
        elif suffix in (".kml", ".yaml"):
            out[str(rel)] = text
        else:
            out[str(rel)] = path.stat().st_size > 0  # images: present and not empty
    return out


def assert_same_products(a: Path, b: Path) -> None:
    """The two run folders hold the same products with the same contents (pixels equal, NaN where NaN)."""
    import pandas as pd

    left, right = products(a), products(b)
    assert sorted(left) == sorted(right)
    for name, value in left.items():
        other = right[name]
        if isinstance(value, tuple):
            np.testing.assert_array_equal(value[0], other[0], err_msg=name)
            assert value[1:] == other[1:], name
        elif isinstance(value, pd.DataFrame):
            pd.testing.assert_frame_equal(value, other, check_exact=False, rtol=1e-9, obj=name)
        else:
            assert value == other, name


def leftovers(run: Path) -> list[Path]:
    """Staging folders or temporary files a run left anywhere in or beside ``run``."""
    around = [p for p in run.parent.iterdir() if p.name.startswith(f".{run.name}.")]
    inside = [p for p in run.rglob(".*") if ".partial-" in p.name or ".old-" in p.name or ".tmp-" in p.name]
    return around + inside
