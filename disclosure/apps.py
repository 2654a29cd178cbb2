from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DisclosureConfig(AppConfig):
    name = "disclosure"
    verbose_name = _("Three openings")

    def ready(self):
        from budgets.registry import register_proposal_panel
        from core import tasks
        from councils.registry import register_demo_builder, register_section
        from disclosure.selectors import ledgers_section, spending_panel
        from notifications.registry import register_followable

        register_section(ledgers_section, template="disclosure/council_section.html", order=40)
        register_demo_builder("records", "disclosure.demo.build", order=30)
        # The proposal page's "budgeted and spent", from the published accounts.
        register_proposal_panel(spending_panel, template="disclosure/proposal_spending.html")
        # People who may see a record may follow it, and are told when it is published.
        register_followable("disclosure.record", permission="disclosure.view_record")
        # Every minute (manage.py reap_tasks): tell of questions left unanswered past their
        # deadline, once each.
        tasks.register_sweep("disclosure.services.overdue_questions_sweep")
