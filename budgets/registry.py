"""Hooks that apps nearer the edge fill from their AppConfig.ready(), so budgets imports none of
them (tests/test_architecture.py). Today: panels on a proposal's page, such as disclosure's
"budgeted and spent" from the published accounts.

    # disclosure/apps.py
    register_proposal_panel(spending_panel, template="disclosure/proposal_spending.html")
"""

from collections.abc import Callable

PROPOSAL_PANELS: list = []
"""Callables (proposal, user) -> dict of template context, or None to show nothing; each carries
`panel_template` and `panel_order` (set by register_proposal_panel)."""


def register_proposal_panel(provider: Callable, *, template: str, order: int = 100) -> Callable:
    provider.panel_template = template
    provider.panel_order = order
    name = f"{provider.__module__}.{provider.__qualname__}"
    PROPOSAL_PANELS[:] = [p for p in PROPOSAL_PANELS if f"{p.__module__}.{p.__qualname__}" != name]
    PROPOSAL_PANELS.append(provider)
    PROPOSAL_PANELS.sort(key=lambda p: p.panel_order)
    return provider


def proposal_panels(proposal, user) -> tuple[dict, list[str]]:
    """The registered panels for this proposal page: (context, templates in order)."""
    context: dict = {}
    templates: list[str] = []
    for provider in PROPOSAL_PANELS:
        found = provider(proposal, user)
        if found is None:
            continue
        context.update(found)
        templates.append(provider.panel_template)
    return context, templates
