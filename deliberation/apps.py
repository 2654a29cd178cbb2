from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeliberationConfig(AppConfig):
    name = "deliberation"
    verbose_name = _("Deliberation")

    def ready(self):
        from councils.selectors import SECTION_PROVIDERS
        from deliberation.selectors import halls_section

        if halls_section not in SECTION_PROVIDERS:
            SECTION_PROVIDERS.append(halls_section)
