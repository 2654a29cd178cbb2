"""Stored figures made by hand for the pages' tests (what the recompute task would write)."""

import datetime
from decimal import Decimal

from governance.models import Index, IndexScore, IndexVersion, MetricValue, PeriodKind


def metric_value(
    council,
    metric: str,
    start: datetime.date,
    value,
    numerator: int = 0,
    denominator: int = 0,
    *,
    kind: str = PeriodKind.MONTH,
) -> MetricValue:
    return MetricValue.objects.create(
        council=council,
        council_path=council.path,
        council_level=council.level,
        period_kind=kind,
        period_start=start,
        metric=metric,
        value=None if value is None else Decimal(str(value)),
        numerator=numerator,
        denominator=denominator,
    )


def index_version(owner, *, name="强基善治指数", number=1, status="published") -> IndexVersion:
    index, _ = Index.objects.get_or_create(owner=owner, name=name)
    return IndexVersion.objects.create(
        index=index,
        number=number,
        status=status,
        star_thresholds=[60, 70, 80, 90, 95],
        published_at=None,
    )


def index_score(version, council, start, score, stars, *, kind=PeriodKind.MONTH) -> IndexScore:
    return IndexScore.objects.create(
        version=version,
        council=council,
        council_path=council.path,
        council_level=council.level,
        period_kind=kind,
        period_start=start,
        score=None if score is None else Decimal(str(score)),
        stars=stars,
    )
