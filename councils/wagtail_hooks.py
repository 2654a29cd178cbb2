"""Admin for memberships and households in Wagtail's admin (for staff and township officials)."""

from django.utils.translation import gettext_lazy as _
from wagtail import hooks
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup

from councils.models import Household, Membership


class MembershipViewSet(ModelViewSet):
    model = Membership
    icon = "group"
    menu_label = _("Memberships")
    list_display = ["user", "council", "role", "status", "requested_at"]
    list_filter = ["role", "status"]
    search_fields = ["user__display_name", "user__real_name", "user__phone", "house_number"]
    form_fields = [
        "user",
        "council",
        "role",
        "status",
        "household",
        "house_number",
        "decision_reason",
    ]


class HouseholdViewSet(ModelViewSet):
    model = Household
    icon = "home"
    menu_label = _("Households")
    list_display = ["number", "council", "head", "representative"]
    search_fields = ["number"]
    form_fields = ["council", "number", "head", "representative"]


class PeopleGroup(ModelViewSetGroup):
    menu_label = _("People")
    menu_icon = "user"
    items = (MembershipViewSet("memberships"), HouseholdViewSet("households"))


@hooks.register("register_admin_viewset")
def register_people():
    return PeopleGroup()
