"""Staff admin for the disclosure calendar. Records are never edited here: they go through the
workflow in disclosure.views, and a published record cannot change at all."""

from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.viewsets.model import ModelViewSet

from disclosure.models import DisclosureRule


class DisclosureRuleViewSet(ModelViewSet):
    model = DisclosureRule
    icon = "date"
    menu_label = _("Disclosure calendar")
    list_display = ["council", "kind", "frequency", "grace_days"]
    list_filter = ["kind", "frequency"]
    form_fields = ["council", "kind", "frequency", "grace_days"]


@hooks.register("register_admin_viewset")
def register_disclosure_calendar():
    return DisclosureRuleViewSet("disclosure_rules")
