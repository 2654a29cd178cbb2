"""The admin home says so when today's SMS budget is spent (core.sms, docs/sms.md)."""

from django.utils.html import format_html
from django.utils.translation import gettext as _
from wagtail import hooks
from wagtail.admin.ui.components import Component

from core import sms


class SmsBudgetAlertPanel(Component):
    order = 10  # first on the page: nobody can sign in or sign up until it is dealt with

    def render_html(self, parent_context=None) -> str:
        alert = sms.budget_alert()
        if not alert:
            return ""
        return format_html(
            '<section class="help-block help-critical" role="alert" id="sms-budget-alert">'
            "<p><strong>{}</strong> {}</p></section>",
            _("No more SMS today."),
            _(
                "The daily SMS budget of %(budget)d messages is spent, so nobody receives a "
                "sign-in code until tomorrow. Raise YISHI_SMS_DAILY_BUDGET if this is real "
                "demand, or look for abuse in the log (yishi.sms)."
            )
            % {"budget": alert["budget"]},
        )


@hooks.register("construct_homepage_panels")
def add_sms_budget_alert(request, panels):
    panels.insert(0, SmsBudgetAlertPanel())
