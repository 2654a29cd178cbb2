from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BudgetsConfig(AppConfig):
    name = "budgets"
    verbose_name = _("Participatory budgets")

    def ready(self):
        from budgets import signals  # noqa: F401  (connects the cache invalidation)
        from councils.selectors import SECTION_PROVIDERS

        SECTION_PROVIDERS.append(budget_section)


def budget_section(council, user) -> dict:
    """The council page's budgets section: this council's cycles, newest first."""
    from budgets.models import BudgetCycle

    return {
        "budget_cycles": list(BudgetCycle.objects.filter(council=council)[:10]),
        "can_start_budget": user.has_perm("budgets.manage_cycle", council),
    }
