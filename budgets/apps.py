from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BudgetsConfig(AppConfig):
    name = "budgets"
    verbose_name = _("Participatory budgets")

    def ready(self):
        from budgets import signals  # noqa: F401  (connects the cache invalidation)
        from core.tasks import register_sweep
        from councils.registry import register_demo_builder, register_section
        from notifications.registry import register_audience, register_followable

        register_section(budget_section, template="budgets/council_section.html", order=30)
        register_demo_builder("budget_cycles", "budgets.demo.build", order=20)
        # Notifications (budgets.notices): phases open by the clock, so the reaper's minute
        # announces them and reminds those who have not voted a day before the vote closes.
        register_audience("budget_residents", "budgets.notices.resident_ids")
        register_audience("budget_non_voters", "budgets.notices.non_voter_ids")
        register_sweep("budgets.notices.sweep")
        # Proposals are public pages: whoever may see the cycle may follow one.
        register_followable("budgets.proposal", permission="budgets.view_cycle")


def budget_section(council, user) -> dict:
    """The council page's budgets section: this council's cycles, newest first."""
    from budgets.models import BudgetCycle

    return {
        "budget_cycles": list(BudgetCycle.objects.filter(council=council)[:10]),
        "can_start_budget": user.has_perm("budgets.manage_cycle", council),
    }
