"""Figures rolled up the tree and over quarters, recomputing in place with a fixed number of
queries, the sweep that starts it on the task runner, and the backfill command."""

import datetime
from collections import Counter

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.models import TaskRun, TaskRunStatus
from councils.models import CouncilPage, Level
from disclosure.models import Kind, PeriodKind, Question, Record, RecordType, Status
from governance import figures
from governance.metrics import METRICS, Unit
from governance.models import MetricValue
from tests.councils.factories import make_council
from tests.governance.conftest import DEC, NOV, NOW, OCT, Q4, at, figure

MONTHS = (OCT, NOV, DEC)


def recompute_q4():
    for start in MONTHS:
        figures.recompute(period_kind="month", period_start=start, now=NOW)
    figures.recompute(period_kind="quarter", period_start=Q4, now=NOW)


def _sum(values) -> tuple[int, int, Counter]:
    histogram = Counter()
    for value in values:
        histogram.update({int(h): n for h, n in value.histogram.items()})
    return (
        sum(v.numerator for v in values),
        sum(v.denominator for v in values),
        +histogram,
    )


def test_a_quarter_counts_what_its_months_count(metrics_world, tree):
    recompute_q4()
    for council in tree.values():
        for key, metric in METRICS.items():
            quarter = figure(council, key, Q4, "quarter")
            months = [figure(council, key, start) for start in MONTHS]
            numerator, denominator, histogram = _sum(months)
            assert (quarter.numerator, quarter.denominator) == (numerator, denominator), key
            assert {int(h): n for h, n in quarter.histogram.items()} == histogram, key
            assert quarter.value == figures.value_of(
                metric.unit, figures.Counts(numerator, denominator, dict(histogram))
            ), key


def test_the_quarter_of_a_figure_by_hand(metrics_world):
    recompute_q4()
    township = metrics_world["township"]
    # Disclosure: October 0 of 4, November 2 of 3, December 0 of 1.
    assert (figure(township, "disclosure_on_time", Q4, "quarter").numerator,) == (2,)
    assert figure(township, "disclosure_on_time", Q4, "quarter").denominator == 8
    assert str(figure(township, "disclosure_on_time", Q4, "quarter").value) == "25.00"
    # Topics answered in the quarter: 3, 48 and 288 hours in November, 72 in December.
    hours = figure(township, "topic_answer_hours", Q4, "quarter")
    assert hours.denominator == 4 and str(hours.value) == "48.00"


def test_a_village_counts_itself_and_its_grids(metrics_world):
    recompute_q4()
    village, grid = metrics_world["village"], metrics_world["grid"]
    own = figures.collect(figures.Period("month", NOV), NOW)
    for key in METRICS:
        value = figure(village, key)
        mine = own[key].get(village.pk, figures.Counts())
        grids = own[key].get(grid.pk, figures.Counts())
        assert value.numerator == mine.numerator + grids.numerator, key
        assert value.denominator == mine.denominator + grids.denominator, key
    # The grid's own session and topic are in the village's figures, not only in the grid's.
    assert figure(grid, "meetings_held").numerator == 1
    assert figure(village, "meetings_held").numerator == 2


def test_a_township_district_and_city_sum_what_is_under_them(metrics_world, tree):
    recompute_q4()
    for key in METRICS:
        for start in MONTHS:
            parts = {
                "township": ("village", "other_village"),
                "other_township": ("far_village",),
                "district": ("township", "other_township"),
                "city": ("district",),
            }
            for whole, under in parts.items():
                summed = _sum([figure(tree[name], key, start) for name in under])
                found = figure(tree[whole], key, start)
                assert (found.numerator, found.denominator) == summed[:2], (key, whole)


def test_recompute_replaces_the_rows_of_the_period(metrics_world, tree):
    written = figures.recompute(period_kind="month", period_start=NOV, now=NOW)
    first = MetricValue.objects.filter(period_start=NOV).count()
    assert first == len(METRICS) * CouncilPage.objects.live().count() == written
    # A late answer to 石桥村's question, then again: the same rows, the new figure; only the
    # figures it changes (石桥村's and those above it) are written again.
    Question.objects.filter(council=metrics_world["other"]).update(
        answer="补答", answered_at=at(11, 19)
    )
    later = NOW + datetime.timedelta(minutes=10)
    written = figures.recompute(period_kind="month", period_start=NOV, now=later)
    assert 0 < written < first
    assert MetricValue.objects.filter(period_start=NOV).count() == first
    assert str(figure(metrics_world["township"], "questions_on_time").value) == "66.70"
    assert figure(metrics_world["township"], "questions_on_time").computed_at == later
    assert figure(metrics_world["village"], "questions_on_time").computed_at == NOW
    assert figure(metrics_world["township"], "meetings_held").computed_at == NOW
    # Other periods are left alone.
    figures.recompute(period_kind="month", period_start=OCT, now=NOW)
    figures.recompute(period_kind="month", period_start=NOV, now=NOW)
    assert MetricValue.objects.filter(period_start=OCT).count() == first


def test_recompute_of_some_councils_keeps_the_others_rows(metrics_world):
    figures.recompute(period_kind="month", period_start=NOV, now=NOW)
    village, other = metrics_world["village"], metrics_world["other"]
    before = figure(other, "questions_on_time").computed_at
    # Both rows are off (as if written by an older rule); only the village's is recomputed.
    MetricValue.objects.filter(metric="questions_on_time", period_start=NOV).update(numerator=99)
    later = NOW + datetime.timedelta(hours=1)
    figures.recompute(period_kind="month", period_start=NOV, council_ids=[village.pk], now=later)
    assert figure(village, "questions_on_time").computed_at == later
    assert figure(village, "questions_on_time").numerator != 99
    assert figure(other, "questions_on_time").computed_at == before
    assert figure(other, "questions_on_time").numerator == 99
    assert MetricValue.objects.filter(council=village, period_start=NOV).count() == len(METRICS)


def test_a_recompute_that_finds_nothing_changed_writes_nothing(metrics_world, monkeypatch):
    recompute_q4()
    stored = {row["pk"]: row for row in MetricValue.objects.values("pk", "computed_at", "value")}
    told = []
    monkeypatch.setattr(figures.live, "figures_changed", lambda ids: told.append(set(ids)))
    later = NOW + datetime.timedelta(minutes=10)
    with CaptureQueriesContext(connection) as queries:
        for start in MONTHS:
            assert figures.recompute(period_kind="month", period_start=start, now=later) == 0
        assert figures.recompute(period_kind="quarter", period_start=Q4, now=later) == 0
    assert set(_queries(queries)) == {"SELECT"}
    assert told == []
    assert {
        row["pk"]: row for row in MetricValue.objects.values("pk", "computed_at", "value")
    } == stored


def test_the_row_of_a_council_no_longer_live_goes(metrics_world):
    figures.recompute(period_kind="month", period_start=NOV, now=NOW)
    grid = metrics_world["grid"]
    grid.unpublish()
    assert figures.recompute(period_kind="month", period_start=NOV, now=NOW) >= len(METRICS)
    assert not MetricValue.objects.filter(council=grid).exists()


def test_an_unpublished_council_gets_no_rows_but_counts_above(metrics_world):
    grid = metrics_world["grid"]
    grid.unpublish()
    figures.recompute(period_kind="month", period_start=NOV, now=NOW)
    assert not MetricValue.objects.filter(council=grid).exists()
    assert figure(metrics_world["village"], "meetings_held").numerator == 2


def test_recompute_tells_the_screens_after_commit(metrics_world, monkeypatch):
    told = []
    monkeypatch.setattr(figures.live, "figures_changed", lambda ids: told.append(set(ids)))
    figures.recompute(period_kind="month", period_start=NOV, now=NOW)
    assert metrics_world["township"].pk in told[0] and metrics_world["grid"].pk in told[0]


def _grow(township, count: int) -> None:
    """`count` more villages with a grid each, each with a record due and a question."""
    for n in range(count):
        village = make_council(township, level=Level.VILLAGE, title=f"新村{n}")
        make_council(village, level=Level.GRID, title=f"新村{n}网格")
        record = Record.objects.create(
            council=village,
            kind=Kind.FINANCE,
            record_type=RecordType.STATEMENT,
            period_kind=PeriodKind.MONTH,
            period_start=OCT,
            period_end=datetime.date(2026, 10, 31),
            title="十月财务",
            status=Status.PUBLISHED,
            published_at=at(11, 3),
        )
        Question.objects.create(record=record, council=village, text="问", due_at=at(11, 9))


def _queries(capture) -> Counter:
    return Counter(q["sql"].split()[0].upper() for q in capture.captured_queries)


def test_the_queries_of_a_recompute_do_not_grow_with_the_councils(metrics_world):
    township = metrics_world["township"]
    figures.recompute(period_kind="month", period_start=NOV, now=NOW)
    # Rows to replace: every stored row is off, so each recompute below writes them all.
    MetricValue.objects.update(numerator=-1)
    with CaptureQueriesContext(connection) as small:
        figures.recompute(period_kind="month", period_start=NOV, now=NOW)
    _grow(township, 4)  # 2 villages, then 6
    MetricValue.objects.update(numerator=-1)
    with CaptureQueriesContext(connection) as large:
        written = figures.recompute(period_kind="month", period_start=NOV, now=NOW)
    small_count, large_count = _queries(small), _queries(large)
    # Only the INSERT batches grow, with the rows (SQLite takes ~80 rows a statement).
    assert small_count - Counter(INSERT=small_count["INSERT"]) == large_count - Counter(
        INSERT=large_count["INSERT"]
    )
    assert large_count["INSERT"] <= written // 80 + 1
    assert figure(township, "questions_on_time").denominator == 3 + 4


def test_value_of_each_unit():
    counts = figures.Counts
    assert figures.value_of(Unit.PERCENT, counts(2, 3)) == figures.Decimal("66.7")
    assert figures.value_of(Unit.PERCENT, counts(1, 8)) == figures.Decimal("12.5")
    assert figures.value_of(Unit.PERCENT, counts(0, 0)) is None
    assert figures.value_of(Unit.RATING, counts(11, 3)) == figures.Decimal("3.67")
    assert figures.value_of(Unit.RATING, counts(0, 0)) is None
    assert figures.value_of(Unit.COUNT, counts(0, 0)) == 0
    assert figures.value_of(Unit.HOURS, counts(0, 0, {})) is None
    assert figures.value_of(Unit.HOURS, counts(0, 4, {3: 1, 5: 1, 72: 2})) == 5


# -- the sweep and the command ---------------------------------------------------------------------


def test_recent_periods():
    assert figures.recent_periods(datetime.date(2026, 11, 20)) == [
        figures.Period("month", NOV),
        figures.Period("month", OCT),
        figures.Period("quarter", Q4),
    ]
    # In January, December's late changes still reach the fourth quarter.
    assert figures.Period("quarter", Q4) in figures.recent_periods(datetime.date(2027, 1, 5))


def test_the_sweep_starts_a_run_then_waits(tree, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        assert figures.sweep() == {"governance_figures_started": 1}
    run = TaskRun.objects.get(work=figures.BUILD_RECENT)
    assert run.status == TaskRunStatus.DONE and run.result["rows"] > 0
    assert MetricValue.objects.filter(council=tree["village"]).exists()
    # Finished a moment ago: not again before RECOMPUTE_EVERY.
    assert figures.sweep() == {"governance_figures_started": 0}
    later = run.finished_at + figures.RECOMPUTE_EVERY + datetime.timedelta(seconds=1)
    with django_capture_on_commit_callbacks(execute=False):
        assert figures.sweep(now=later) == {"governance_figures_started": 1}


def test_the_sweep_waits_for_a_queued_run(db):
    TaskRun.objects.create(work=figures.BUILD_RECENT, kwargs={})
    assert figures.sweep() == {"governance_figures_started": 0}
    assert TaskRun.objects.count() == 1


def test_the_sweep_waits_after_a_failure(db):
    failed = TaskRun.objects.create(
        work=figures.BUILD_RECENT,
        kwargs={},
        status=TaskRunStatus.FAILED,
        finished_at=NOW,
    )
    assert figures.sweep(now=failed.finished_at + datetime.timedelta(minutes=1)) == {
        "governance_figures_started": 0
    }


def test_the_command_recomputes_a_month_and_a_quarter(metrics_world):
    call_command("governance_figures", "--month", "2026-11", "--quarter", "2026-Q4")
    assert figure(metrics_world["village"], "meetings_held").numerator == 2
    assert figure(metrics_world["village"], "meetings_held", Q4, "quarter").numerator == 2


def test_the_command_all_covers_every_period_since_the_first_data(metrics_world):
    call_command("governance_figures", "--all")
    assert MetricValue.objects.filter(period_kind="quarter", period_start=Q4).exists()
    assert MetricValue.objects.filter(period_kind="month", period_start=OCT).exists()


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["--month", "2026-13"],
        ["--month", "2026-Q4"],
        ["--quarter", "2026-11"],
        ["--quarter", "2026-Q9"],
    ],
)
def test_the_command_refuses_bad_periods(db, args):
    with pytest.raises(CommandError):
        call_command("governance_figures", *args)
