"""Wagtail admin: halls and consultation days for staff; the sensitive-word list as a snippet."""

from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from deliberation.models import ConsultationDay, Hall, SensitiveWord


class HallViewSet(ModelViewSet):
    model = Hall
    icon = "group"
    menu_label = _("Discussion halls")
    list_display = ["title", "council", "is_public", "created"]
    list_filter = ["is_public"]
    search_fields = ["title", "council__title"]
    form_fields = ["council", "title", "description", "is_public"]


class ConsultationDayViewSet(ModelViewSet):
    model = ConsultationDay
    icon = "date"
    menu_label = _("Consultation days")
    list_display = ["title", "hall", "starts_at", "place"]
    search_fields = ["title", "place"]
    form_fields = ["hall", "title", "starts_at", "ends_at", "place", "officials", "created_by"]


class DeliberationGroup(ModelViewSetGroup):
    menu_label = _("Halls")
    menu_icon = "group"
    items = (HallViewSet("halls"), ConsultationDayViewSet("consultation_days"))


@hooks.register("register_admin_viewset")
def register_halls():
    return DeliberationGroup()


class SensitiveWordViewSet(SnippetViewSet):
    model = SensitiveWord
    icon = "warning"
    menu_label = _("Sensitive words")
    list_display = ["word", "note", "created"]
    search_fields = ["word", "note"]


register_snippet(SensitiveWordViewSet)
