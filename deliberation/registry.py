"""Hooks that apps nearer the edge fill from their AppConfig.ready(), so deliberation imports
none of them (tests/test_architecture.py). Today: panels on a topic's page, such as the cases
desk's "escalate this topic to a case" and the cases made from it.

    # cases/apps.py
    register_topic_panel(topic_panel, template="cases/topic_panel.html")
"""

from collections.abc import Callable

from core.panels import collect_panels, register_panel

TOPIC_PANELS: list = []
"""Callables (topic, user) -> dict of template context, or None to show nothing; each carries
`panel_template` and `panel_order` (set by register_topic_panel)."""


def register_topic_panel(provider: Callable, *, template: str, order: int = 100) -> Callable:
    return register_panel(TOPIC_PANELS, provider, template=template, order=order)


def topic_panels(topic, user) -> tuple[dict, list[str]]:
    """The registered panels for this topic page: (context, templates in order)."""
    return collect_panels(TOPIC_PANELS, topic, user)
