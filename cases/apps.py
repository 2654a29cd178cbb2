from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("Cases")

    def ready(self):
        from cases.views.case import council_section
        from core.tasks import register_sweep
        from councils.registry import register_section
        from notifications.registry import register_followable

        # Overdue cases escalate, unconfirmed outcomes close (cases.services.sweep).
        register_sweep("cases.services.sweep")
        register_followable("cases.case", permission="cases.view_case")
        # On a grid's or village's page: the report buttons and the open public cases.
        register_section(council_section, template="cases/council_section.html", order=50)
        # Figures of what changed since the last build; last week's summaries on Monday.
        register_sweep("cases.figures.sweep")
        register_sweep("cases.summaries.sweep")
        # A month of cases in each demo village, after the halls it escalates a topic from.
        from councils.registry import register_demo_builder

        register_demo_builder("cases", "cases.demo.build", order=50)
        # On a hall topic's page: the cases made from it, and the committee's way to make one.
        from cases.selectors import topic_panel
        from deliberation.registry import register_topic_panel

        register_topic_panel(topic_panel, template="cases/topic_panel.html")
