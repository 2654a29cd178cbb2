"""The catalogue of governance metrics: what each figure counts, in one place.

Each metric is a figure of a council and everything under it over a month or a quarter, stored
as counts (MetricValue.numerator / denominator) by governance.figures, so that a figure rolled up
the tree or over a quarter is computed from summed counts. docs/governance.md lists them with
what exactly each counts; `evidence` names the page that lists the records a figure counts.
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Unit:
    PERCENT = "percent"  # numerator / denominator x 100, one decimal place
    COUNT = "count"  # numerator (denominator unused)
    RATING = "rating"  # numerator / denominator: a sum of 1-5 ratings over how many
    HOURS = "hours"  # a median in hours, from a histogram (denominator: how many)


@dataclass(frozen=True)
class Metric:
    key: str
    label: str
    unit: str
    higher_is_better: bool
    counts: str
    """What the numerator and denominator count, in one sentence (page and docs)."""
    group: str


GROUP_DISCLOSURE = pgettext_lazy("metric group", "Openness")
GROUP_MEETINGS = pgettext_lazy("metric group", "Meetings")
GROUP_BUDGETS = pgettext_lazy("metric group", "Budgets")
GROUP_HALLS = pgettext_lazy("metric group", "Halls")
GROUP_CASES = pgettext_lazy("metric group", "Cases")

METRICS: dict[str, Metric] = {
    m.key: m
    for m in (
        Metric(
            "disclosure_on_time",
            _("Records published on time"),
            Unit.PERCENT,
            True,
            _("Records due in the period that were published by their deadline, of all due."),
            GROUP_DISCLOSURE,
        ),
        Metric(
            "questions_on_time",
            _("Questions answered on time"),
            Unit.PERCENT,
            True,
            _("Residents' questions due in the period that were answered by their deadline."),
            GROUP_DISCLOSURE,
        ),
        Metric(
            "meetings_held",
            _("Sessions held"),
            Unit.COUNT,
            True,
            _("Representatives' meetings and villagers' assemblies that closed in the period."),
            GROUP_MEETINGS,
        ),
        Metric(
            "quorum_rate",
            _("Sessions that reached quorum"),
            Unit.PERCENT,
            True,
            _("Sessions held in the period whose roll call reached the lawful quorum."),
            GROUP_MEETINGS,
        ),
        Metric(
            "budget_turnout",
            _("Turnout in budget votes"),
            Unit.PERCENT,
            True,
            _("Ballots cast, of residents eligible, in budget votes that closed in the period."),
            GROUP_BUDGETS,
        ),
        Metric(
            "projects_finished",
            _("Projects finished"),
            Unit.COUNT,
            True,
            _("Funded projects reported finished in the period."),
            GROUP_BUDGETS,
        ),
        Metric(
            "project_rating",
            _("Residents' rating of projects"),
            Unit.RATING,
            True,
            _("Mean rating (1 to 5) that residents gave finished projects in the period."),
            GROUP_BUDGETS,
        ),
        Metric(
            "topics_answered",
            _("Hall topics answered"),
            Unit.PERCENT,
            True,
            _("Topics raised in the period that have an official answer."),
            GROUP_HALLS,
        ),
        Metric(
            "topic_answer_hours",
            _("Median time to answer a topic"),
            Unit.HOURS,
            False,
            _("Median hours from raising to answer, of topics answered in the period."),
            GROUP_HALLS,
        ),
        Metric(
            "case_closure",
            _("Cases closed"),
            Unit.PERCENT,
            True,
            _("Cases reported in the period that are closed (办结率)."),
            GROUP_CASES,
        ),
        Metric(
            "case_on_time",
            _("Cases closed on time"),
            Unit.PERCENT,
            True,
            _("Cases reported in the period that closed within their deadlines."),
            GROUP_CASES,
        ),
        Metric(
            "case_satisfaction",
            _("Satisfaction with cases"),
            Unit.RATING,
            True,
            _("Mean rating (1 to 5) reporters gave the outcome of their cases."),
            GROUP_CASES,
        ),
    )
}
