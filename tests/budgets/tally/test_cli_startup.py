"""The command line starts light: `python -m budgets.tally` loads no Django, and Django's
`manage.py tally` command module loads neither the engine nor numpy until it runs.

Start-up time itself is measured in bench (docs/performance.md), not here; these tests hold the
imports that decide it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def _modules_after(statement: str) -> set[str]:
    code = f"import sys\n{statement}\nprint('\\n'.join(sorted(sys.modules)))"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return set(out.stdout.split())


def test_the_command_line_imports_no_django() -> None:
    loaded = _modules_after("import budgets.tally.cli, budgets.tally.__main__")
    assert "budgets.tally.mes" in loaded
    assert not {m for m in loaded if m == "django" or m.startswith("django.")}
    assert "wagtail" not in loaded


def test_manage_py_tally_loads_the_engine_only_when_it_runs() -> None:
    loaded = _modules_after("import budgets.management.commands.tally")
    assert "django.core.management.base" in loaded
    assert "numpy" not in loaded
    assert "budgets.tally.mes" not in loaded
