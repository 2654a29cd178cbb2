"""Panels one app hangs on another's page: the mechanism behind budgets.registry (a proposal's
page) and deliberation.registry (a topic's page). A panel is a callable (obj, user) -> dict of
template context, or None to show nothing, with the template that draws it."""

from collections.abc import Callable


def register_panel(panels: list, provider: Callable, *, template: str, order: int) -> Callable:
    """Add `provider` to `panels` in `order`; registering it again replaces it."""
    provider.panel_template = template
    provider.panel_order = order
    name = f"{provider.__module__}.{provider.__qualname__}"
    panels[:] = [p for p in panels if f"{p.__module__}.{p.__qualname__}" != name]
    panels.append(provider)
    panels.sort(key=lambda p: p.panel_order)
    return provider


def collect_panels(panels: list, obj, user) -> tuple[dict, list[str]]:
    """The panels to show for `obj` to `user`: (context, templates in order)."""
    context: dict = {}
    templates: list[str] = []
    for provider in panels:
        found = provider(obj, user)
        if found is None:
            continue
        context.update(found)
        templates.append(provider.panel_template)
    return context, templates
