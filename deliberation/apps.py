from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeliberationConfig(AppConfig):
    name = "deliberation"
    verbose_name = _("Deliberation")

    def ready(self):
        from councils.selectors import SECTION_PROVIDERS
        from deliberation.selectors import halls_section
        from deliberation.sessions import sessions_section

        for provider in (halls_section, sessions_section):
            if provider not in SECTION_PROVIDERS:
                SECTION_PROVIDERS.append(provider)
