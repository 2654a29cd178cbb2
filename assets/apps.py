from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssetsConfig(AppConfig):
    name = "assets"
    verbose_name = _("Collective assets, resources and contracts")

    def ready(self):
        from assets.selectors import registers_section
        from councils.registry import register_demo_builder, register_section

        register_section(registers_section, template="assets/council_section.html", order=45)
        register_demo_builder("registers", "assets.demo.build", order=60)
        # Every minute (manage.py reap_tasks): match receipts booked in the published ledgers
        # to their contracts and store the payments' states the pages read (assets.payments).
        from core import tasks

        tasks.register_sweep("assets.payments.sweep")
        # On a published finance record's page: which lines pay which contract, linked.
        from assets.payments import receipts_panel
        from disclosure.registry import register_record_panel

        register_record_panel(receipts_panel, template="assets/record_receipts.html")
