"""The index's sweep settles (governance.index.sweep, every minute from the reaper): once the
scores are computed, a sweep that finds nothing changed writes nothing, starts nothing and runs
the same few queries however many indexes and villages there are; an index whose owner has no
village never asks for a run; and the figures' recompute that finds the same counts leaves its
rows alone, so the chain figures -> scores comes to rest."""

import datetime
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from core.models import TaskRun
from councils.models import Level, Role
from governance import figures
from governance import index as scoring
from governance.models import IndexScore, MetricValue, PeriodKind
from tests.councils.factories import make_council, member
from tests.governance.index_objects import figure, ruian_index

WRITES = ("INSERT", "UPDATE", "DELETE")


@pytest.fixture
def official(tree):
    return member(tree["township"], Role.OFFICIAL)


def this_month() -> datetime.date:
    return scoring.period_start_of(PeriodKind.MONTH, timezone.localdate())


def sweep_and_run(capture) -> dict:
    """One sweep, with the job it starts run at once (the tests' task backend is immediate)."""
    with capture(execute=True):
        return scoring.sweep()


def quiet_sweep() -> tuple[dict, list[str]]:
    """A sweep, with the SQL it ran."""
    with CaptureQueriesContext(connection) as queries:
        started = scoring.sweep()
    return started, [q["sql"] for q in queries.captured_queries]


def writes(statements: list[str]) -> list[str]:
    return [sql for sql in statements if sql.split()[0].upper() in WRITES]


def set_metric(council, key: str, value: str, *, start=None) -> None:
    """A figure of the month, as the recompute writes it: new or changed, computed now."""
    MetricValue.objects.update_or_create(
        council=council,
        period_kind=PeriodKind.MONTH,
        period_start=start or this_month(),
        metric=key,
        defaults={
            "council_path": council.path,
            "council_level": council.level,
            "numerator": 1,
            "denominator": 1,
            "value": Decimal(value),
            "computed_at": timezone.now(),
        },
    )


def township_with_villages(tree, title: str, villages: int):
    township = make_council(tree["district"], level=Level.TOWNSHIP, title=title)
    for n in range(villages):
        make_council(township, level=Level.VILLAGE, title=f"{title}{n}村")
    return township


def test_a_sweep_after_the_run_writes_nothing_and_starts_nothing(
    tree, official, django_capture_on_commit_callbacks
):
    index = ruian_index(tree, official)
    set_metric(tree["village"], "disclosure_on_time", "80")
    assert sweep_and_run(django_capture_on_commit_callbacks) == {"index_scores_started": 1}
    version = index.versions.get()
    scores = {
        row["pk"]: row
        for row in IndexScore.objects.filter(version=version).values("pk", "score", "computed_at")
    }
    # Two villages, four periods kept fresh (this and last month and quarter).
    assert len(scores) == 2 * 4
    runs = TaskRun.objects.count()

    for _ in range(3):
        started, statements = quiet_sweep()
        assert started == {"index_scores_started": 0}
        assert writes(statements) == []
        assert len(statements) <= 7, statements
    assert TaskRun.objects.count() == runs
    assert {
        row["pk"]: row
        for row in IndexScore.objects.filter(version=version).values("pk", "score", "computed_at")
    } == scores


def test_the_quiet_sweep_runs_the_same_queries_however_many_indexes_and_villages(
    tree, official, django_capture_on_commit_callbacks
):
    def township_index(title: str, villages: int) -> None:
        township = township_with_villages(tree, title, villages=villages)
        ruian_index({"township": township}, member(township, Role.OFFICIAL))

    ruian_index(tree, official)
    township_index("空镇", villages=0)  # no village at all: never computed, never stale
    sweep_and_run(django_capture_on_commit_callbacks)
    _, few = quiet_sweep()
    for n in range(3):
        township_index(f"新镇{n}", villages=3)
    township_index("另一个空镇", villages=0)
    for council in (tree["village"], tree["other_village"]):
        set_metric(council, "questions_on_time", "75")
    assert sweep_and_run(django_capture_on_commit_callbacks) == {"index_scores_started": 1}
    assert IndexScore.objects.count() == (2 + 3 * 3) * 4
    started, many = quiet_sweep()
    assert started == {"index_scores_started": 0}
    assert writes(many) == []
    assert len(many) == len(few)


def test_an_index_whose_township_has_no_village_never_starts_a_run(
    tree, django_capture_on_commit_callbacks
):
    empty = township_with_villages(tree, "空镇", villages=0)
    official = member(empty, Role.OFFICIAL)
    ruian_index({"township": empty}, official)
    for _ in range(2):
        started, statements = quiet_sweep()
        assert started == {"index_scores_started": 0}
        assert writes(statements) == []
    assert not TaskRun.objects.filter(work=scoring.COMPUTE_STALE).exists()
    assert not IndexScore.objects.exists()
    # Its first village is scored at the next sweep.
    village = make_council(empty, level=Level.VILLAGE, title="新村")
    assert sweep_and_run(django_capture_on_commit_callbacks) == {"index_scores_started": 1}
    assert IndexScore.objects.filter(council=village).count() == 4
    assert quiet_sweep()[0] == {"index_scores_started": 0}


def test_only_what_a_version_reads_makes_its_scores_stale(
    tree, official, django_capture_on_commit_callbacks
):
    index = ruian_index(tree, official)
    sweep_and_run(django_capture_on_commit_callbacks)
    # Rui'an's index does not read the count of sessions held, nor another township's figures.
    set_metric(tree["village"], "meetings_held", "3")
    set_metric(tree["far_village"], "disclosure_on_time", "50")
    assert quiet_sweep()[0] == {"index_scores_started": 0}
    # A figure it reads, of one of its villages: this month's scores are stale, and only them.
    set_metric(tree["village"], "disclosure_on_time", "90")
    version = index.versions.get()
    assert [
        (v.pk, kind, start) for v, kind, start in scoring.stale_periods(timezone.localdate())
    ] == [(version.pk, PeriodKind.MONTH, this_month())]
    assert sweep_and_run(django_capture_on_commit_callbacks) == {"index_scores_started": 1}
    assert quiet_sweep()[0] == {"index_scores_started": 0}


def test_a_figure_published_for_the_quarter_makes_its_months_stale(
    tree, official, django_capture_on_commit_callbacks
):
    index = ruian_index(tree, official)
    sweep_and_run(django_capture_on_commit_callbacks)
    quarter = scoring.period_start_of(PeriodKind.QUARTER, timezone.localdate())
    figure(
        index,
        tree["village"],
        official,
        period_kind=PeriodKind.QUARTER,
        period_start=quarter,
        publish=True,
    )
    stale = {(kind, start) for _, kind, start in scoring.stale_periods(timezone.localdate())}
    months = {
        (kind, start)
        for kind, start in scoring.periods_to_keep_fresh(timezone.localdate())
        if kind == PeriodKind.MONTH and scoring.quarter_of(start) == quarter
    }
    assert stale == {(PeriodKind.QUARTER, quarter)} | months
    sweep_and_run(django_capture_on_commit_callbacks)
    assert quiet_sweep()[0] == {"index_scores_started": 0}


def test_the_chain_from_the_records_to_the_scores_comes_to_rest(
    tree, official, django_capture_on_commit_callbacks
):
    ruian_index(tree, official)
    figures.recompute_recent()
    assert sweep_and_run(django_capture_on_commit_callbacks) == {"index_scores_started": 1}
    # The figures' next recompute (every RECOMPUTE_EVERY) finds the same counts: it writes
    # nothing, so the scores are not stale and the index's sweep stays still.
    with CaptureQueriesContext(connection) as queries:
        assert figures.recompute_recent() == 0
    assert writes([q["sql"] for q in queries.captured_queries]) == []
    started, statements = quiet_sweep()
    assert started == {"index_scores_started": 0}
    assert writes(statements) == []
