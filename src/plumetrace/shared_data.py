"""Where the third-party validation data live (../shared/data by default; PLUMETRACE_SHARED_DATA overrides)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["shared_data_dir"]


def shared_data_dir() -> Path | None:
    """The shared data folder, or None when it is absent (tests then skip with a reason)."""
    env = os.environ.get("PLUMETRACE_SHARED_DATA")
    candidates = [Path(env)] if env else []
    repo_root = Path(__file__).resolve().parents[2]
    candidates.append(repo_root.parent / "shared" / "data")
    for path in candidates:
        if (path / "INDEX.md").is_file():
            return path
    return None
