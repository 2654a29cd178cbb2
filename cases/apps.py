from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("Cases")

    def ready(self):
        from core.tasks import register_sweep
        from notifications.registry import register_followable

        # Overdue cases escalate, unconfirmed outcomes close (cases.services.sweep).
        register_sweep("cases.services.sweep")
        register_followable("cases.case", permission="cases.view_case")
