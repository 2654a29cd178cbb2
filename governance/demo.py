"""Demo data of the index (manage.py load_demo_data, after the other apps' demo builders).

For the village's township: the Rui'an index (once per township), published figures for the
village's entered indicators with a link as evidence, then this month's metrics and scores. Run
again, it adds nothing that is there already.
"""

import datetime
from decimal import Decimal

from django.utils import timezone

from councils.models import CouncilPage, Membership, MembershipStatus, Role
from governance import index as scoring
from governance import services
from governance.models import EnteredFigure, Index, PeriodKind
from governance.ruian import RUIAN

# Entered figures of a demo village for the current quarter: the same for every village but
# nudged by its position, so the ranking has something to rank.
FIGURES = {
    "collective-income": (Decimal("6.5"), "村集体经济年报（示例）"),
    "major-incidents": (Decimal("0"), "乡镇平安办季度通报（示例）"),
    "environment": (Decimal("86"), "人居环境整治季度考评（示例）"),
    "party-stars": (Decimal("4"), "党组织星级评定结果（示例）"),
}
EVIDENCE_URL = "https://example.org/yishi-demo/evidence/{code}"


def _official(township: CouncilPage):
    membership = (
        Membership.objects.filter(
            council=township, role=Role.OFFICIAL, status=MembershipStatus.VERIFIED
        )
        .select_related("user")
        .order_by("pk")
        .first()
    )
    return membership.user if membership else None


def build(village) -> int:
    township = village.township()
    if township is None:
        return 0
    official = _official(township)
    if official is None:
        return 0
    made = 0  # what was added (scores are recomputed, not counted)
    index = Index.objects.filter(owner=township, template=RUIAN.key).first()
    if index is None:
        index = services.create_index(
            owner=township, name=RUIAN.name, template="ruian", by=official
        )
        made += 1
    today = timezone.localdate()
    quarter = scoring.period_start_of(PeriodKind.QUARTER, today)
    nudge = Decimal(int(village.pk) % 5)
    for code, (value, note) in FIGURES.items():
        if EnteredFigure.objects.filter(
            index=index, code=code, council=village, period_kind=PeriodKind.QUARTER
        ).exists():
            continue
        if code == "environment":
            value -= nudge * 3
        elif code == "collective-income":
            value += nudge
        figure = services.enter_figure(
            index=index,
            code=code,
            council=village,
            period_kind=PeriodKind.QUARTER,
            period_start=quarter,
            value=value,
            evidence_url=EVIDENCE_URL.format(code=code),
            note=note,
            by=official,
        )
        services.publish_figure(figure=figure, by=official)
        made += 1
    _scores(index, village, today)
    return made


def _scores(index: Index, village, today: datetime.date) -> int:
    """This month's metrics of the village (when governance.figures can compute them) and the
    index's scores of its villages; recomputed on every run, like the sweep would."""
    month = scoring.period_start_of(PeriodKind.MONTH, today)
    try:
        from governance.figures import recompute
    except ImportError:  # pragma: no cover - the metrics part is not there
        recompute = None
    if recompute is not None:
        recompute(period_kind=PeriodKind.MONTH, period_start=month, council_ids=[village.pk])
    version = services.version_in_use(index)
    if version is None:
        return 0
    return scoring.compute_scores(version=version, period_kind=PeriodKind.MONTH, period_start=month)
