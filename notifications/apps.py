from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = _("Notifications")

    def ready(self):
        from core import tasks
        from councils import registry
        from notifications.registry import register_audience

        # The reaper (manage.py reap_tasks, every minute) also sends what is due and takes back
        # deliveries whose worker died mid-send: nothing waits for a task that Redis lost.
        tasks.register_sweep("notifications.delivery.sweep")
        registry.register_membership_listener("notifications.events.membership_decided")
        register_audience("council_residents", "notifications.audiences.council_residents")
