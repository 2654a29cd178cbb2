"""Shared helpers for the tally tests: where the pabulib files are and cached parsing.

The full set of real elections lives outside the repository ($PABULIB_DIR, default
/work/shared/pabulib = ../shared/pabulib). Four small ones are committed in ./pabulib/ (see its
README), so a bare clone still runs every test over real files. A test that needs a file of the
full set calls `need_shared_pabulib`: skipped without it, failed when $CI is set."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

import pytest

from budgets.tally.pabulib import read_pabulib
from budgets.tally.profile import Election

SHARED_PABULIB_DIR = Path(os.environ.get("PABULIB_DIR", "/work/shared/pabulib"))
BUNDLED_PABULIB_DIR = Path(__file__).resolve().parent / "pabulib"
PABULIB_DIR = SHARED_PABULIB_DIR if SHARED_PABULIB_DIR.is_dir() else BUNDLED_PABULIB_DIR
REFERENCE_DIR = Path(__file__).resolve().parent / "reference"


def pabulib_files() -> list[str]:
    """Names of the real pabulib files available: the full set, else the committed four."""
    if not PABULIB_DIR.is_dir():
        return []
    return sorted(p.name for p in PABULIB_DIR.glob("*.pb"))


def bundled_pabulib(name: str) -> Path:
    """A committed file, from the full set when it is there (same bytes), else from ./pabulib."""
    shared = SHARED_PABULIB_DIR / name
    return shared if shared.is_file() else BUNDLED_PABULIB_DIR / name


def need_shared_pabulib(name: str = "") -> Path:
    """The path of a file (or the folder) of the full set; skip without it, fail on CI."""
    path = SHARED_PABULIB_DIR / name if name else SHARED_PABULIB_DIR
    if path.exists():
        return path
    message = (
        f"{path} is missing: this test needs the full pabulib set (../shared/pabulib, or set "
        "PABULIB_DIR); the four committed files in tests/budgets/tally/pabulib/ do not include it"
    )
    if os.environ.get("CI"):
        pytest.fail(f"CI is set and {message}", pytrace=False)
    pytest.skip(message)


@lru_cache(maxsize=4)
def election(name: str) -> Election:
    """Parse a pabulib file once per test session (the big ones take a moment)."""
    return read_pabulib(PABULIB_DIR / name)
