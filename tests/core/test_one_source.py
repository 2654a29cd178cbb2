"""One source per rule and one list of process-wide state: tests that fail when a second copy
comes back."""

import ast
import pathlib

import pytest

from core import ratelimit, state

ROOT = pathlib.Path(__file__).resolve().parents[2]
APPS = ("core", "councils", "home", "deliberation", "meetings", "budgets", "disclosure")


def _modules():
    for app in APPS:
        for path in sorted((ROOT / app).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def _module_mutables(path):
    """Module-level names bound to an empty dict or set literal: process-wide caches."""
    for node in ast.parse(path.read_text()).body:
        target = value = None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign):
            target, value = node.target, node.value
        empty = isinstance(value, ast.Dict) and not value.keys
        empty |= isinstance(value, ast.Call) and getattr(value.func, "id", "") in ("set", "dict")
        if isinstance(target, ast.Name) and empty and target.id.startswith("_"):
            yield target.id


def test_every_module_level_cache_is_registered_for_reset():
    import budgets.consumers  # noqa: F401  (registration happens at import)
    import budgets.live  # noqa: F401
    import budgets.services  # noqa: F401
    import cases.live  # noqa: F401
    import core.cache  # noqa: F401
    import core.realtime.hub  # noqa: F401

    known = set(state.registered())
    missing = []
    for path in _modules():
        module = ".".join(path.relative_to(ROOT).with_suffix("").parts)
        for name in _module_mutables(path):
            if f"{module}.{name}" not in known and module != "core.state":
                missing.append(f"{module}.{name}")
    assert not missing, f"register these with core.state.register: {missing}"


def test_reset_all_empties_every_registered_state():
    from budgets import live, services
    from councils import models

    services._local_cycles[1] = (0.0, None)
    live._batches[1] = (0.0, True)
    models._ancestor_ids["0001"] = (0.0, frozenset())
    state.reset_all()
    assert not services._local_cycles and not live._batches and not models._ancestor_ids


@pytest.mark.django_db
def test_the_rate_limit_helper_counts_atomically_per_window():
    assert [ratelimit.hit("test:one", 2, 60) for _ in range(3)] == [True, True, False]
    assert ratelimit.hit("test:none", None, 60)
    assert ratelimit.count("test:day", timeout=60) == 1 == ratelimit.count("test:other", timeout=60)


def test_nothing_but_core_ratelimit_counts_with_incr():
    users = [
        str(path.relative_to(ROOT))
        for path in _modules()
        if ".incr(" in path.read_text() and path.name != "ratelimit.py"
    ]
    assert not users, f"count with core.ratelimit, not cache.incr: {users}"


def test_nothing_but_core_uploads_opens_images():
    users = [
        str(path.relative_to(ROOT))
        for path in _modules()
        if "from PIL" in path.read_text() and path.name != "uploads.py"
    ]
    assert not users, f"photos are checked in core/uploads.py only: {users}"


def test_budget_views_ask_the_rules_not_the_phase():
    """Views decide with has_perm / budgets.rules; no phase comparison of their own."""
    tree = ast.parse((ROOT / "budgets" / "views.py").read_text())
    compares = [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Compare)
        and any(
            "phase_at" in ast.unparse(part) or "PhaseKind" in ast.unparse(part)
            for part in [node.left, *node.comparators]
        )
    ]
    assert not compares, f"budgets/views.py compares phases on lines {compares}"
