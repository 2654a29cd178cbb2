from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeliberationConfig(AppConfig):
    name = "deliberation"
    verbose_name = _("Deliberation")

    def ready(self):
        from councils.registry import register_demo_builder, register_section
        from deliberation.selectors import halls_section

        register_section(halls_section, template="deliberation/council_section.html", order=10)
        register_demo_builder("halls", "deliberation.demo.build", order=10)
