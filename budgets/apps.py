from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BudgetsConfig(AppConfig):
    name = "budgets"
    verbose_name = _("Participatory budgets")

    def ready(self):
        from budgets import signals  # noqa: F401  (connects the cache invalidation)
        from councils.registry import register_demo_builder, register_section

        register_section(budget_section, template="budgets/council_section.html", order=30)
        register_demo_builder("budget_cycles", "budgets.demo.build", order=20)


def budget_section(council, user) -> dict:
    """The council page's budgets section: this council's cycles, newest first."""
    from budgets.models import BudgetCycle

    return {
        "budget_cycles": list(BudgetCycle.objects.filter(council=council)[:10]),
        "can_start_budget": user.has_perm("budgets.manage_cycle", council),
    }
