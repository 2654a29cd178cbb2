from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MeetingsConfig(AppConfig):
    name = "meetings"
    verbose_name = _("Meetings")

    def ready(self):
        from councils.registry import register_demo_builder, register_section
        from meetings.services import sessions_section

        register_section(sessions_section, template="meetings/council_section.html", order=20)
        register_demo_builder("sessions", "meetings.demo.build", order=40)
