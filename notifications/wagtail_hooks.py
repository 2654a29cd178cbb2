"""Wagtail admin: a council's monthly SMS budget as a snippet, and a warning on the admin home
when a council's budget for notices is spent this month (notifications.delivery). The day's
budget for the whole site has its own warning (core/wagtail_hooks.py)."""

from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from wagtail import hooks
from wagtail.admin.panels import FieldPanel, PageChooserPanel
from wagtail.admin.ui.components import Component
from wagtail.snippets.models import register_snippet
from wagtail.snippets.views.snippets import SnippetViewSet

from councils.models import CouncilPage
from notifications import delivery
from notifications.models import SmsBudget


class SmsBudgetViewSet(SnippetViewSet):
    model = SmsBudget
    icon = "mail"
    menu_label = gettext_lazy("SMS budgets")
    list_display = ["council", "monthly"]
    search_fields = ["council__title"]
    panels = [PageChooserPanel("council", ["councils.CouncilPage"]), FieldPanel("monthly")]


register_snippet(SmsBudgetViewSet)


def council_of(scope: str) -> int | None:
    """The council of a "council:<id>:<YYYY-MM>" scope (None: notices of no council)."""
    _kind, council_id, _month = (scope.split(":", 2) + ["", ""])[:3]
    return int(council_id) if council_id.isdigit() and int(council_id) else None


class SmsMonthlyBudgetPanel(Component):
    order = 11  # right after the day's SMS alert (core)

    def render_html(self, parent_context=None) -> str:
        spent = [(council_of(spend.scope), spend) for spend in delivery.budgets_reached()]
        if not spent:
            return ""
        titles = dict(
            CouncilPage.objects.filter(pk__in=[pk for pk, _spend in spent if pk]).values_list(
                "pk", "title"
            )
        )
        rows = format_html_join(
            "",
            "<li>{} ({})</li>",
            (
                (
                    titles.get(council_id) or _("Notices of no council"),
                    _("%(count)d of %(limit)d SMS") % {"count": spend.count, "limit": spend.limit},
                )
                for council_id, spend in spent
            ),
        )
        return format_html(
            '<section class="help-block help-warning" role="alert" id="sms-monthly-budget-alert">'
            '<p><strong>{}</strong> {}</p><ul>{}</ul><p><a href="{}">{}</a></p></section>',
            _("Notices by SMS have stopped for some councils this month."),
            _(
                "Their monthly SMS budget is spent: their residents are still told on the site, "
                "by WeChat and by e-mail, but not by SMS until next month or until the budget "
                "is raised."
            ),
            rows,
            reverse(SmsBudget.snippet_viewset.get_url_name("list")),
            _("Set the councils' SMS budgets"),
        )


@hooks.register("construct_homepage_panels")
def add_sms_monthly_budget_alert(request, panels):
    panels.append(SmsMonthlyBudgetPanel())
