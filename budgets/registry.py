"""Hooks that apps nearer the edge fill from their AppConfig.ready(), so budgets imports none of
them (tests/test_architecture.py). Today: panels on a proposal's page, such as disclosure's
"budgeted and spent" from the published accounts.

    # disclosure/apps.py
    register_proposal_panel(spending_panel, template="disclosure/proposal_spending.html")
"""

from collections.abc import Callable

from core.panels import collect_panels, register_panel

PROPOSAL_PANELS: list = []
"""Callables (proposal, user) -> dict of template context, or None to show nothing; each carries
`panel_template` and `panel_order` (set by register_proposal_panel)."""


def register_proposal_panel(provider: Callable, *, template: str, order: int = 100) -> Callable:
    return register_panel(PROPOSAL_PANELS, provider, template=template, order=order)


def proposal_panels(proposal, user) -> tuple[dict, list[str]]:
    """The registered panels for this proposal page: (context, templates in order)."""
    return collect_panels(PROPOSAL_PANELS, proposal, user)
