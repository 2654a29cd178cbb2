from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DisclosureConfig(AppConfig):
    name = "disclosure"
    verbose_name = _("Three openings")

    def ready(self):
        from councils.selectors import SECTION_PROVIDERS
        from disclosure.selectors import ledgers_section

        if ledgers_section not in SECTION_PROVIDERS:
            SECTION_PROVIDERS.append(ledgers_section)
