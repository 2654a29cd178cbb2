"""What hangs on the spine: registries the apps fill from their AppConfig.ready().

councils/ imports no other app (tests/test_architecture.py). A council page shows the sections
that apps register here, and `manage.py load_demo_data` runs the demo builders registered here,
in order. Both registries are process-wide lists filled once at start-up; registering the same
name again replaces the entry, so a second ready() (tests, autoreload) adds nothing.

    # budgets/apps.py
    def ready(self):
        from councils.registry import register_demo_builder, register_section
        register_section(budget_section, template="budgets/council_section.html", order=30)
        register_demo_builder("budget_cycles", "budgets.demo.build", order=20)
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.module_loading import import_string

SECTION_PROVIDERS: list = []
"""Callables (council, user) -> dict of template context (or None to hide the section). One
registered with register_section carries `section_template` and `section_order`: the council
page includes that template, in order, with the context merged into the page's."""


def register_section(provider: Callable, *, template: str, order: int = 100) -> Callable:
    """Add a council-page section: `provider(council, user)` gives its context, `template`
    renders it (it sees the whole page context, `page` being the council)."""
    provider.section_template = template
    provider.section_order = order
    name = _name(provider)
    SECTION_PROVIDERS[:] = [p for p in SECTION_PROVIDERS if _name(p) != name]
    SECTION_PROVIDERS.append(provider)
    SECTION_PROVIDERS.sort(key=lambda p: getattr(p, "section_order", 100))
    return provider


def _name(provider) -> str:
    return f"{getattr(provider, '__module__', '')}.{getattr(provider, '__qualname__', provider)}"


def council_sections(council, user) -> tuple[dict, list[str]]:
    """The registered sections for this council and user: (context, templates in order)."""
    context: dict = {}
    templates: list[str] = []
    for provider in SECTION_PROVIDERS:
        found = provider(council, user)
        if found is None:
            continue
        context.update(found)
        template = getattr(provider, "section_template", None)
        if template:
            templates.append(template)
    return context, templates


@dataclass(frozen=True)
class DemoBuilder:
    name: str
    """What it makes, for the summary line: "halls", "budget_cycles", ..."""
    build: Callable | str
    """build(village) -> how many things it made (0 when they already exist: idempotent); a
    dotted path is imported only when the demo runs, so start-up does not load demo code."""
    order: int = 100

    def __call__(self, village) -> int:
        build = import_string(self.build) if isinstance(self.build, str) else self.build
        return build(village)


DEMO_BUILDERS: list[DemoBuilder] = []
"""Run by load_demo_data after the city is built, lowest order first, for each demo village."""


def register_demo_builder(name: str, build: Callable | str, *, order: int = 100) -> None:
    DEMO_BUILDERS[:] = [b for b in DEMO_BUILDERS if b.name != name]
    DEMO_BUILDERS.append(DemoBuilder(name=name, build=build, order=order))
    DEMO_BUILDERS.sort(key=lambda b: (b.order, b.name))


# --- Listeners of membership decisions ---------------------------------------------------

MEMBERSHIP_LISTENERS: list[str] = []
"""Dotted paths of `listener(membership, *, verified: bool, reason: str)`, called inside the
transaction that verified or rejected a membership (notifications tells the person)."""


def register_membership_listener(path: str) -> None:
    if path not in MEMBERSHIP_LISTENERS:
        MEMBERSHIP_LISTENERS.append(path)


def membership_decided(membership, *, verified: bool, reason: str = "") -> None:
    for path in MEMBERSHIP_LISTENERS:
        import_string(path)(membership, verified=verified, reason=reason)
