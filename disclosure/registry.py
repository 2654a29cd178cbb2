"""Hooks that apps nearer the edge fill from their AppConfig.ready(), so disclosure imports none
of them (tests/test_architecture.py). Today: panels on a record's page, shown under its lines,
such as the registers' "which lines pay which contract" (assets.payments.receipts_panel).

    # assets/apps.py
    register_record_panel(receipts_panel, template="assets/record_receipts.html")
"""

from collections.abc import Callable

from core.panels import collect_panels, register_panel

RECORD_PANELS: list = []
"""Callables (record, user) -> dict of template context, or None to show nothing; each carries
`panel_template` and `panel_order` (set by register_record_panel)."""


def register_record_panel(provider: Callable, *, template: str, order: int = 100) -> Callable:
    return register_panel(RECORD_PANELS, provider, template=template, order=order)


def record_panels(record, user) -> tuple[dict, list[str]]:
    """The registered panels for this record's page: (context, templates in order)."""
    return collect_panels(RECORD_PANELS, record, user)
