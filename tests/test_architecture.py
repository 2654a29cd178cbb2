"""Imports between apps run one way (docs/architecture.md).

Every .py file of every app, migrations included, is parsed (never imported) and each absolute or
relative import that names another app is an arrow from the file's app to that app. Lazy imports
inside functions count too: they are dependencies all the same. String references such as
ForeignKey("budgets.Proposal") or a migration's `dependencies` list are not imports and are fine.

    api -> governance -> assets -> meetings, cases -> disclosure -> budgets -> deliberation
        -> notifications -> councils -> core

An app may import only apps to its right. home may import anything (it is the site's front page);
yishi/ wires everything; tests/ and bench/ are not apps.
"""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Lower rank = nearer the spine. Apps of equal rank may not import each other.
RANK = {
    "core": 0,
    "councils": 1,
    "notifications": 2,
    "deliberation": 3,
    "budgets": 4,
    "disclosure": 5,
    "meetings": 6,
    "cases": 6,
    "assets": 7,
    "governance": 8,
    "api": 9,
}
UNRANKED_MAY_IMPORT_ANYTHING = {"home"}
APPS = set(RANK) | UNRANKED_MAY_IMPORT_ANYTHING


def present_apps() -> list[str]:
    return sorted(app for app in APPS if (ROOT / app / "__init__.py").exists())


def imported_apps(path: Path, app: str) -> set[tuple[str, int]]:
    """(app, line) for every import in `path` that names an app other than its own."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = set()
    package_parts = path.relative_to(ROOT).with_suffix("").parts[:-1]
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolve against the file's package
                base = package_parts[: len(package_parts) - (node.level - 1)]
                names = [".".join([*base, node.module] if node.module else base)]
            else:
                names = [node.module or ""]
        for name in names:
            top = name.split(".")[0]
            if top in APPS and top != app:
                found.add((top, node.lineno))
    return found


def app_edges() -> dict[tuple[str, str], list[str]]:
    """(importer, imported) -> where, for every app present in the tree."""
    edges: dict[tuple[str, str], list[str]] = {}
    for app in present_apps():
        for path in sorted((ROOT / app).rglob("*.py")):
            for target, line in imported_apps(path, app):
                where = f"{path.relative_to(ROOT)}:{line}"
                edges.setdefault((app, target), []).append(where)
    return edges


def test_the_parser_sees_lazy_relative_and_migration_imports(tmp_path, monkeypatch):
    package = tmp_path / "councils" / "migrations"
    package.mkdir(parents=True)
    (tmp_path / "councils" / "__init__.py").write_text("")
    sample = package / "0001_x.py"
    sample.write_text(
        "import budgets.models\n"
        "from ..models import X\n"
        "def f():\n"
        "    from disclosure.selectors import y\n"
        "fk = 'deliberation.Topic'\n"
    )
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert {app for app, _ in imported_apps(sample, "councils")} == {"budgets", "disclosure"}


def test_the_spine_imports_no_app():
    edges = app_edges()
    wrong = {
        edge: where
        for edge, where in edges.items()
        if edge[0] in ("core", "councils") and edge[1] != "core"
    }
    wrong.update({edge: where for edge, where in edges.items() if edge[0] == "core"})
    assert wrong == {}


def test_disclosure_imports_neither_meetings_nor_deliberation():
    edges = app_edges()
    wrong = {
        edge: where
        for edge, where in edges.items()
        if edge[0] == "disclosure" and edge[1] in ("meetings", "deliberation")
    }
    assert wrong == {}


def test_apps_import_only_apps_nearer_the_spine():
    wrong = {
        edge: where
        for edge, where in app_edges().items()
        if edge[0] not in UNRANKED_MAY_IMPORT_ANYTHING
        and (edge[1] in UNRANKED_MAY_IMPORT_ANYTHING or RANK[edge[1]] >= RANK[edge[0]])
    }
    assert wrong == {}


def test_no_cycle_between_apps():
    graph: dict[str, set[str]] = {}
    for importer, imported in app_edges():
        graph.setdefault(importer, set()).add(imported)
    visiting, done, cycles = set(), set(), []

    def visit(node, trail):
        if node in visiting:
            cycles.append(trail[trail.index(node) :] + [node])
            return
        if node in done:
            return
        visiting.add(node)
        for nxt in sorted(graph.get(node, ())):
            visit(nxt, [*trail, node])
        visiting.discard(node)
        done.add(node)

    for start in sorted(graph):
        visit(start, [])
    assert cycles == []


@pytest.mark.parametrize("app", ["councils", "core"])
def test_spine_templates_name_no_other_apps_urls(app):
    """A council page links to other apps only through what their section providers give it."""
    others = sorted(APPS - {app, "core", "councils"})
    wrong = []
    for path in sorted((ROOT / app).rglob("*.html")):
        text = path.read_text(encoding="utf-8")
        for other in others:
            for quote in ("'", '"'):
                if "{% url " + quote + other + ":" in text:
                    wrong.append(f"{path.relative_to(ROOT)} names {other}: URLs")
    assert wrong == []
