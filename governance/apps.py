from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class GovernanceConfig(AppConfig):
    name = "governance"
    verbose_name = _("Governance figures")

    def ready(self):
        from core.tasks import register_sweep

        # The recent months and quarters recomputed every few minutes (governance.figures).
        register_sweep("governance.figures.sweep")
        # On every council's page: its figures of last month and this quarter, with trends.
        from councils.registry import register_section
        from governance.dashboards import council_section

        register_section(council_section, template="governance/council_section.html", order=90)
        # Index scores of the versions in use, when their figures changed (governance.index).
        register_sweep("governance.index.sweep")
        # The Rui'an index of each demo township, with entered figures and scores.
        from councils.registry import register_demo_builder

        register_demo_builder("governance", "governance.demo.build", order=90)
