from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DeliberationConfig(AppConfig):
    name = "deliberation"
    verbose_name = _("Deliberation")

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from councils.registry import register_demo_builder, register_section
        from deliberation.models import SensitiveWord
        from deliberation.moderation import forget_sensitive_words
        from deliberation.selectors import halls_section
        from notifications.registry import register_followable

        post_save.connect(forget_sensitive_words, sender=SensitiveWord, dispatch_uid="words")
        post_delete.connect(forget_sensitive_words, sender=SensitiveWord, dispatch_uid="words")

        register_section(halls_section, template="deliberation/council_section.html", order=10)
        register_demo_builder("halls", "deliberation.demo.build", order=10)
        # People who may see a topic may follow it, and are told when it is taken up, answered
        # or closed (deliberation.services).
        register_followable("deliberation.topic", permission="deliberation.view_topic")
