"""Shared helpers for the tally tests: where the pabulib files are and cached parsing."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from budgets.tally.pabulib import read_pabulib
from budgets.tally.profile import Election

PABULIB_DIR = Path(os.environ.get("PABULIB_DIR", "/work/shared/pabulib"))
REFERENCE_DIR = Path(__file__).resolve().parent / "reference"


def pabulib_files() -> list[str]:
    """Names of the real pabulib files available (empty when the data set is absent)."""
    if not PABULIB_DIR.is_dir():
        return []
    return sorted(p.name for p in PABULIB_DIR.glob("*.pb"))


@lru_cache(maxsize=4)
def election(name: str) -> Election:
    """Parse a pabulib file once per test session (the big ones take a moment)."""
    return read_pabulib(PABULIB_DIR / name)
