"""The spine knows nothing of what hangs on it: council-page sections and demo builders come from
councils.registry, filled by each app's ready(); councils/ imports no other app."""

import ast
from pathlib import Path

import pytest
from django.core.management import call_command
from django.template import engines
from django.template.loaders.locmem import Loader

from councils import registry
from tests.councils.factories import member

ROOT = Path(__file__).resolve().parents[2]
APPS = {
    "home",
    "deliberation",
    "budgets",
    "disclosure",
    "meetings",
    "notifications",
    "cases",
    "governance",
    "assets",
    "api",
}


def test_councils_imports_no_other_app():
    wrong = []
    for path in (ROOT / "councils").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            wrong += [f"{path.name}: {n}" for n in names if n.split(".")[0] in APPS]
    assert wrong == []


def test_every_app_registers_its_section_and_demo_in_order():
    templates = [getattr(p, "section_template", None) for p in registry.SECTION_PROVIDERS]
    assert templates == [
        "deliberation/council_section.html",
        "meetings/council_section.html",
        "budgets/council_section.html",
        "disclosure/council_section.html",
        "assets/council_section.html",
        "cases/council_section.html",
        "governance/council_section.html",
    ]
    assert [b.name for b in registry.DEMO_BUILDERS] == [
        "halls",
        "budget_cycles",
        "records",
        "sessions",
        "cases",
        "registers",
        "governance",
    ]


def test_registering_again_replaces_instead_of_adding(monkeypatch):
    monkeypatch.setattr(registry, "SECTION_PROVIDERS", [])
    monkeypatch.setattr(registry, "DEMO_BUILDERS", [])

    def section(council, user):
        return {}

    for _ in range(2):
        registry.register_section(section, template="x.html")
        registry.register_demo_builder("things", "x.demo.build")
    assert len(registry.SECTION_PROVIDERS) == len(registry.DEMO_BUILDERS) == 1


@pytest.mark.django_db
def test_the_council_page_shows_only_registered_sections(client, tree, monkeypatch):
    def weather(council, user):
        return {"weather": f"{council.title}：晴"}

    monkeypatch.setattr(registry, "SECTION_PROVIDERS", [])
    registry.register_section(weather, template="councils/test_weather_section.html")
    engine = engines["django"].engine
    monkeypatch.setattr(
        engine,
        "template_loaders",
        [Loader(engine, {"councils/test_weather_section.html": "<p id=weather>{{ weather }}</p>"})]
        + list(engine.template_loaders),
    )
    html = client.get(tree["village"].url).content.decode()
    assert f"<p id=weather>{tree['village'].title}：晴</p>" in html
    assert "Participatory budgets" not in html and "Discussion halls" not in html


@pytest.mark.django_db
def test_the_council_page_shows_the_apps_sections(client, tree):
    committee = member(tree["village"], "committee")
    client.force_login(committee)
    html = client.get(tree["village"].url).content.decode()
    for heading in ("Discussion halls", "Participatory budgets", "Three openings"):
        assert heading in html


@pytest.mark.django_db
def test_load_demo_data_runs_the_registered_builders(settings, monkeypatch):
    settings.DEBUG = True
    made = []
    monkeypatch.setattr(registry, "DEMO_BUILDERS", [])
    monkeypatch.setattr(
        "councils.management.commands.load_demo_data.DEMO_BUILDERS", registry.DEMO_BUILDERS
    )
    registry.register_demo_builder(
        "second", lambda village: made.append(("2", village.slug)) or 1, order=2
    )
    registry.register_demo_builder(
        "first", lambda village: made.append(("1", village.slug)) or 1, order=1
    )
    call_command("load_demo_data", households=2)
    assert [step for step, _ in made] == ["1"] * 3 + ["2"] * 3
    assert {slug for _, slug in made} == {"liushu", "heping", "taoyuan-v"}
