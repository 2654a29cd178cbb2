"""Hooks that apps nearer the edge fill from their AppConfig.ready(), so deliberation imports
none of them (tests/test_architecture.py). Today: panels on a topic's page, such as the cases
desk's "escalate this topic to a case" and the cases made from it.

    # cases/apps.py
    register_topic_panel(topic_panel, template="cases/topic_panel.html")
"""

from collections.abc import Callable

TOPIC_PANELS: list = []
"""Callables (topic, user) -> dict of template context, or None to show nothing; each carries
`panel_template` and `panel_order` (set by register_topic_panel)."""


def register_topic_panel(provider: Callable, *, template: str, order: int = 100) -> Callable:
    provider.panel_template = template
    provider.panel_order = order
    name = f"{provider.__module__}.{provider.__qualname__}"
    TOPIC_PANELS[:] = [p for p in TOPIC_PANELS if f"{p.__module__}.{p.__qualname__}" != name]
    TOPIC_PANELS.append(provider)
    TOPIC_PANELS.sort(key=lambda p: p.panel_order)
    return provider


def topic_panels(topic, user) -> tuple[dict, list[str]]:
    """The registered panels for this topic page: (context, templates in order)."""
    context: dict = {}
    templates: list[str] = []
    for provider in TOPIC_PANELS:
        found = provider(topic, user)
        if found is None:
            continue
        context.update(found)
        templates.append(provider.panel_template)
    return context, templates
