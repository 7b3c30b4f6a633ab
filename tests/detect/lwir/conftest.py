"""LWIR detection tests: the synthetic scene builder lives in _lwir_synthetic.py (importable by the tests)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # --import-mode=importlib: make the helper module importable
