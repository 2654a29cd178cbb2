from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MeetingsConfig(AppConfig):
    name = "meetings"
    verbose_name = _("Meetings")

    def ready(self):
        from councils.registry import register_demo_builder, register_section
        from meetings.services import sessions_section
        from notifications.registry import register_audience

        register_section(sessions_section, template="meetings/council_section.html", order=20)
        register_demo_builder("sessions", "meetings.demo.build", order=40)
        # Who is told that a meeting was called, changed or cancelled, or of its minutes
        # (meetings.notices).
        register_audience("session_roster", "meetings.notices.roster_ids")
