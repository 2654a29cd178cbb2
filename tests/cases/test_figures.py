"""Closure figures: rebuilt from the cases, summed up the tree, read in a fixed number of queries.

The small world (all routine, reported in the grid in March 2026, Shanghai time):

    A  closed 3 h after the report (exactly), on time, rated 5
    B  closed 10 h 30 min after, on time, rated 4
    C  resolved 8 days after (promise: 7 days), closed 193 h after: late, rated 3
    D  rated 1 after its first outcome: reopened, in hand
    E  never accepted: overdue at the figures' clock (10 March)

closure 3/5 = 60.0 %, on time 2/3 = 66.7 %, close times 3 h, 11 h, 216 h (193 h is past two
days: 9 whole days) so the median is 11 h, satisfaction (5+4+3+1)/4 = 3.25, reopened 1 of 3
closed = 33.3 %, overdue and open 1.
"""

import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases import figures, services
from cases.models import Case, CaseCloseTime, CaseFigure, Category, Whistle
from core.models import TaskRun, TaskRunStatus
from tests.cases.conftest import grid_report

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
H = datetime.timedelta(hours=1)
MARCH = datetime.date(2026, 3, 1)
APRIL = datetime.date(2026, 4, 1)
CLOCK = datetime.datetime(2026, 3, 10, 12, 0, tzinfo=SHANGHAI)


def at(day, hour=9, minute=0, month=3):
    return datetime.datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def handle(case, people, *, accepted, resolved, confirmed=None, satisfaction=5, handler=None):
    # The township's official handles whatever the tier (the role carries down the tree).
    handler = handler or people["official"]
    services.accept_case(user=handler, case=case, now=accepted)
    services.resolve_case(user=handler, case=case, outcome="处理好了", now=resolved)
    if confirmed is not None:
        services.confirm_case(
            user=case.reporter, case=case, satisfaction=satisfaction, now=confirmed
        )
    return Case.objects.get(pk=case.pk)


def small_world(tree, people):
    t = at(2)
    a = grid_report(tree, people, title="案件甲", now=t)
    handle(a, people, accepted=t + H, resolved=t + 2 * H, confirmed=t + 3 * H, satisfaction=5)
    t = at(3)
    b = grid_report(tree, people, title="案件乙", now=t, category=Category.SANITATION)
    handle(
        b,
        people,
        accepted=t + H,
        resolved=t + 10 * H,
        confirmed=t + 10.5 * H,
        satisfaction=4,
    )
    t = at(4)
    c = grid_report(tree, people, title="案件丙", now=t)
    handle(
        c,
        people,
        accepted=t + H,
        resolved=t + datetime.timedelta(days=8),
        confirmed=t + 193 * H,
        satisfaction=3,
    )
    t = at(5)
    d = grid_report(tree, people, title="案件丁", now=t)
    handle(d, people, accepted=t + H, resolved=t + 4 * H, confirmed=t + 5 * H, satisfaction=1)
    e = grid_report(tree, people, title="案件戊", now=at(6), level=Whistle.PRIORITY)
    return {"a": a, "b": b, "c": c, "d": d, "e": e}


def total(council, months=(MARCH,)):
    [row] = figures.figures_for(council, months=list(months))
    return row


def test_each_figure_of_the_small_world_is_the_hand_computed_one(tree, people):
    small_world(tree, people)
    assert figures.rebuild(now=CLOCK) > 0
    row = total(tree["grid"])
    assert (row.reported, row.closed, row.closed_on_time) == (5, 3, 2)
    assert row.closure_rate == Decimal("60.0")
    assert row.on_time_rate == Decimal("66.7")
    assert row.histogram == {3: 1, 11: 1, 216: 1}
    assert row.median_hours == 11
    assert (row.rated, row.satisfaction_sum) == (4, 13)
    assert row.satisfaction == Decimal("3.25")
    assert row.reopened == 1 and row.reopen_rate == Decimal("33.3")
    assert row.overdue_open == 1


def test_figures_by_level_and_by_category_split_the_same_cases(tree, people):
    small_world(tree, people)
    figures.rebuild(now=CLOCK)
    by_level = {
        row.key: row for row in figures.figures_for(tree["grid"], months=[MARCH], by="level")
    }
    assert list(by_level) == [Whistle.ROUTINE, Whistle.PRIORITY, Whistle.DIFFICULT]
    assert by_level[Whistle.ROUTINE].reported == 4 and by_level[Whistle.ROUTINE].closed == 3
    assert by_level[Whistle.PRIORITY].reported == 1 and by_level[Whistle.PRIORITY].overdue_open == 1
    assert by_level[Whistle.PRIORITY].closure_rate == Decimal("0.0")
    assert by_level[Whistle.DIFFICULT].reported == 0
    assert by_level[Whistle.DIFFICULT].closure_rate is None
    assert by_level[Whistle.DIFFICULT].median_hours is None
    by_category = {
        row.key: row for row in figures.figures_for(tree["grid"], months=[MARCH], by="category")
    }
    assert by_category[Category.SANITATION].reported == 1
    assert by_category[Category.SANITATION].median_hours == 11
    assert by_category[Category.ROADS].reported == 4
    assert by_category[Category.ROADS].histogram == {3: 1, 216: 1}
    assert by_category[Category.ROADS].median_hours == 3  # lower median of two


def test_the_median_is_the_lower_median_of_the_buckets():
    assert figures.lower_median({}) is None
    assert figures.lower_median({5: 1}) == 5
    assert figures.lower_median({3: 1, 11: 1}) == 3
    assert figures.lower_median({3: 1, 11: 1, 72: 1}) == 11
    assert figures.lower_median({1: 2, 2: 1, 96: 3}) == 2
    assert figures.lower_median({1: 2, 2: 1, 96: 4}) == 96


@pytest.mark.parametrize(
    ("taken", "bucket"),
    [
        (datetime.timedelta(0), 1),
        (datetime.timedelta(minutes=1), 1),
        (datetime.timedelta(hours=3), 3),
        (datetime.timedelta(hours=3, microseconds=1), 4),
        (datetime.timedelta(hours=3, seconds=1), 4),
        (datetime.timedelta(hours=48), 48),
        (datetime.timedelta(hours=48, seconds=1), 72),
        (datetime.timedelta(hours=72), 72),
        (datetime.timedelta(hours=72, minutes=1), 96),
        (datetime.timedelta(days=30, hours=1), 744),
    ],
)
def test_close_time_buckets_round_up_to_hours_then_days_in_the_database(
    tree, people, taken, bucket
):
    case = grid_report(tree, people, now=at(2))
    reported = at(2, 9, 0).replace(microsecond=250_000)
    Case.objects.filter(pk=case.pk).update(
        status="closed", reported_at=reported, closed_at=reported + taken, on_time=True
    )
    figures.rebuild(now=CLOCK)
    assert list(CaseCloseTime.objects.values_list("hours", "count")) == [(bucket, 1)]
    assert figures.close_bucket(taken.total_seconds() / 3600) == bucket


def test_a_township_is_the_sum_of_its_grid_and_villages(tree, people):
    grid_report(tree, people, title="网格一", now=at(2))
    grid_report(tree, people, title="网格二", now=at(3), level=Whistle.PRIORITY)
    village_case = grid_report(
        tree, people, council=tree["village"], reporter=people["committee"], now=at(4)
    )
    handle(village_case, people, accepted=at(4, 10), resolved=at(4, 12), confirmed=at(4, 13))
    grid_report(
        tree,
        people,
        council=tree["other_village"],
        reporter=people["other_committee"],
        now=at(5),
        category=Category.SAFETY,
    )
    grid_report(
        tree, people, council=tree["far_village"], reporter=people["other_official"], now=at(6)
    )
    figures.rebuild(now=CLOCK)
    grid, village = total(tree["grid"]), total(tree["village"])
    other, township = total(tree["other_village"]), total(tree["township"])
    assert (grid.reported, village.reported, other.reported) == (2, 3, 1)
    assert township.reported == village.reported + other.reported == 4
    assert township.closed == village.closed == 1
    assert township.histogram == village.histogram == {4: 1}
    assert total(tree["district"]).reported == 5 == total(tree["city"]).reported
    assert total(tree["other_township"]).reported == 1


def test_months_are_counted_in_shanghai_time(tree, people):
    # 23:30 on 31 March in Shanghai is March; 00:30 on 1 April is April, though still
    # 31 March (16:30) in UTC.
    grid_report(tree, people, title="三月末", now=at(31, 23, 30))
    grid_report(tree, people, title="四月初", now=at(1, 0, 30, month=4))
    figures.rebuild(now=CLOCK)
    assert sorted(CaseFigure.objects.values_list("month", "reported")) == [(MARCH, 1), (APRIL, 1)]
    assert total(tree["grid"], [MARCH]).reported == 1
    assert total(tree["grid"], [APRIL]).reported == 1
    by_month = figures.figures_for(
        tree["grid"], months=figures.MonthSpan(datetime.date(2026, 2, 1), APRIL), by="month"
    )
    assert [(row.label, row.reported) for row in by_month] == [
        ("2026-02", 0),
        ("2026-03", 1),
        ("2026-04", 1),
    ]


def test_a_case_counts_in_the_month_of_its_report_when_it_closes_later(tree, people):
    case = grid_report(tree, people, now=at(30))
    handle(
        case, people, accepted=at(30, 10), resolved=at(2, 9, month=4), confirmed=at(2, 10, month=4)
    )
    figures.rebuild(now=CLOCK)
    assert total(tree["grid"], [MARCH]).closed == 1
    assert total(tree["grid"], [APRIL]).reported == 0


def test_rebuilding_some_months_leaves_the_others(tree, people):
    grid_report(tree, people, now=at(10))
    grid_report(tree, people, now=at(10, month=4))
    figures.rebuild(now=CLOCK)
    CaseFigure.objects.update(reported=99)
    figures.rebuild(months=[APRIL], now=CLOCK)
    assert dict(CaseFigure.objects.values_list("month", "reported")) == {MARCH: 99, APRIL: 1}


def test_a_pair_without_cases_loses_its_rows(tree, people):
    case = grid_report(tree, people, now=at(10))
    figures.rebuild(now=CLOCK)
    assert CaseFigure.objects.count() == 1
    Case.objects.filter(pk=case.pk).update(reported_at=at(10, month=4))
    figures.rebuild(councils=[tree["grid"]], now=CLOCK)
    assert list(CaseFigure.objects.values_list("month", flat=True)) == [APRIL]


def test_rebuild_changed_rebuilds_only_the_pairs_that_changed(tree, people):
    moved = grid_report(tree, people, title="会动的", now=at(2))
    quiet = grid_report(
        tree,
        people,
        council=tree["other_village"],
        reporter=people["other_committee"],
        title="不动的",
        now=at(3, month=2),
    )
    first_build = at(20)
    figures.rebuild(now=first_build)
    # A change the figures cannot know of (no step, so changed_at stays): a pair not rebuilt
    # keeps its old count.
    Case.objects.filter(pk=quiet.pk).update(satisfaction=5)
    since = at(25)
    services.accept_case(user=people["official"], case=moved, now=since + H)
    second_build = at(26)
    written = figures.rebuild_changed(since=since, now=second_build)
    assert written == 1
    rows = {row.council_id: row for row in CaseFigure.objects.all()}
    assert rows[tree["grid"].pk].built_at == second_build
    assert rows[tree["other_village"].pk].built_at == first_build
    assert rows[tree["other_village"].pk].rated == 0
    assert figures.changed_pairs(since) == {MARCH: [tree["grid"].pk]}
    figures.rebuild(now=second_build)
    assert CaseFigure.objects.get(council=tree["other_village"]).rated == 1


def test_figures_for_takes_two_queries_however_many_cases_and_councils(
    tree, people, django_assert_num_queries
):
    grid_report(tree, people, now=at(2))
    figures.rebuild(now=CLOCK)
    for by in (None, "level", "category", "month"):
        with django_assert_num_queries(2):
            figures.figures_for(tree["township"], months=[MARCH], by=by)
    small_world(tree, people)
    for council, reporter in (
        ("village", "committee"),
        ("other_village", "other_committee"),
    ):
        for day in range(1, 8):
            grid_report(
                tree, people, council=tree[council], reporter=people[reporter], now=at(day, month=4)
            )
    figures.rebuild(now=CLOCK)
    span = figures.MonthSpan(MARCH, APRIL)
    for by in (None, "level", "category", "month"):
        with django_assert_num_queries(2):
            rows = figures.figures_for(tree["township"], months=span, by=by)
    assert sum(row.reported for row in rows) == 20


def test_breakdowns_fold_the_same_figures_in_two_queries(tree, people, django_assert_num_queries):
    small_world(tree, people)
    grid_report(tree, people, now=at(3, month=4), category=Category.SAFETY)
    figures.rebuild(now=CLOCK)
    span = figures.MonthSpan(MARCH, APRIL)
    with django_assert_num_queries(2):
        found = figures.breakdowns(tree["village"], months=span)
    for by, rows in (
        ("month", found.by_month),
        ("level", found.by_level),
        ("category", found.by_category),
    ):
        assert rows == figures.figures_for(tree["village"], months=span, by=by), by
    [everything] = figures.figures_for(tree["village"], months=span)
    assert found.total.reported == everything.reported == 6
    assert found.total.histogram == everything.histogram == {3: 1, 11: 1, 216: 1}
    assert found.total.median_hours == 11 and found.total.closure_rate == Decimal("50.0")


def test_by_must_be_a_known_breakdown(tree):
    with pytest.raises(ValueError):
        figures.figures_for(tree["grid"], months=[MARCH], by="reporter")


# -- the sweep and the task ------------------------------------------------------------------------


def test_the_sweep_does_nothing_without_cases(db):
    assert figures.sweep() == {"case_figures_started": 0}
    assert not TaskRun.objects.exists()


def test_the_sweep_builds_what_changed_and_keeps_its_high_water_mark(
    tree, people, django_capture_on_commit_callbacks
):
    small_world(tree, people)
    with django_capture_on_commit_callbacks(execute=True):
        assert figures.sweep() == {"case_figures_started": 1}
    run = TaskRun.objects.get()
    assert run.status == TaskRunStatus.DONE and run.kwargs == {"since": None}
    assert total(tree["grid"]).reported == 5
    built_until = datetime.datetime.fromisoformat(run.result["built_until"])
    assert figures.high_water_mark() == built_until - figures.OVERLAP
    # Nothing changed since (the cases moved in March): no new run.
    with django_capture_on_commit_callbacks(execute=True):
        assert figures.sweep() == {"case_figures_started": 0}
    assert TaskRun.objects.count() == 1
    # A step now: the next run rebuilds from the mark.
    grid_report(tree, people, title="新的")
    with django_capture_on_commit_callbacks(execute=True):
        assert figures.sweep() == {"case_figures_started": 1}
    newest = TaskRun.objects.order_by("-pk").first()
    assert newest.status == TaskRunStatus.DONE
    assert newest.kwargs == {"since": (built_until - figures.OVERLAP).isoformat()}
    # March: routine roads, routine sanitation, priority roads; December: the new one.
    assert CaseFigure.objects.filter(council=tree["grid"]).count() == 4


def test_the_sweep_waits_for_a_run_that_is_queued(tree, people):
    grid_report(tree, people, now=at(2))
    TaskRun.objects.create(work=figures.BUILD_CHANGED, kwargs={"since": None})
    assert figures.sweep() == {"case_figures_started": 0}
    assert TaskRun.objects.count() == 1


def test_the_sweep_keeps_only_a_day_of_finished_runs_and_the_newest(tree, people):
    grid_report(tree, people)
    now = timezone.now()
    old = now - datetime.timedelta(days=2)
    runs = [
        TaskRun.objects.create(
            work=figures.BUILD_CHANGED,
            status=TaskRunStatus.DONE,
            result={"built_until": (old - datetime.timedelta(hours=1)).isoformat()},
        )
        for _ in range(3)
    ]
    recent = TaskRun.objects.create(
        work=figures.BUILD_CHANGED,
        status=TaskRunStatus.DONE,
        result={"built_until": (now - datetime.timedelta(hours=1)).isoformat()},
    )
    TaskRun.objects.filter(pk__in=[run.pk for run in runs]).update(created_at=old)
    other = TaskRun.objects.create(work="tests.core.task_work.fails_once", status="done")
    TaskRun.objects.filter(pk=other.pk).update(created_at=old)
    assert figures.sweep(now=now) == {"case_figures_started": 1}
    left = set(TaskRun.objects.values_list("pk", flat=True))
    assert recent.pk in left and other.pk in left
    assert not left & {run.pk for run in runs}


def test_the_command_rebuilds_everything(tree, people):
    from io import StringIO

    from django.core.management import call_command

    grid_report(tree, people, now=at(2))
    out = StringIO()
    call_command("cases_figures", "--all", stdout=out)
    assert "1 figure rows" in out.getvalue()
    assert total(tree["grid"]).reported == 1


# -- the page --------------------------------------------------------------------------------------


def figures_url(council, **params):
    query = "&".join(f"{key}={value}" for key, value in params.items())
    return reverse("cases:figures", args=[council.pk]) + (f"?{query}" if query else "")


def test_anyone_sees_the_figures_page_without_any_case_named(client, tree, people):
    small_world(tree, people)
    figures.rebuild(now=CLOCK)
    response = client.get(figures_url(tree["township"], **{"from": "2026-02", "to": "2026-04"}))
    assert response.status_code == 200
    html = response.content.decode()
    assert "60.0%" in html and "66.7%" in html and "33.3%" in html and "3.25" in html
    assert "11 hours" in html
    assert "<svg" in html and 'role="img"' in html
    assert "style=" not in html and "<script>" not in html
    assert "案件" not in html  # the cases' titles
    assert "村口第三根路灯" not in html  # their description
    # No staff tools for an anonymous visitor.
    assert reverse("cases:export_cases", args=[tree["township"].pk]) not in html


def test_the_page_shows_the_export_only_to_those_who_may_export(client, tree, people):
    url = figures_url(tree["township"])
    export = reverse("cases:export_cases", args=[tree["township"].pk])
    client.force_login(people["official"])
    assert export in client.get(url).content.decode()
    for name in ("resident", "grid_worker", "committee", "other_official"):
        client.force_login(people[name])
        assert export not in client.get(url).content.decode(), name


def test_a_bad_month_range_falls_back_to_the_last_twelve_months(client, tree):
    response = client.get(figures_url(tree["grid"], **{"from": "2026-05", "to": "2026-01"}))
    assert response.status_code == 200
    assert "the first before the last" in response.content.decode()
    assert client.get(reverse("cases:figures", args=[999999])).status_code == 404
    # The last month of year 9999 has no next month, and a council's id can be too large for
    # the database: a message and a 404, never a 500.
    response = client.get(figures_url(tree["grid"], **{"from": "9999-11", "to": "9999-12"}))
    assert response.status_code == 200
    assert "the first before the last" in response.content.decode()
    assert client.get(reverse("cases:figures", args=[10**25])).status_code == 404


def test_the_page_takes_the_same_queries_for_a_bigger_world(client, tree, people):
    url = figures_url(tree["township"], **{"from": "2026-03", "to": "2026-04"})
    grid_report(tree, people, now=at(2))
    figures.rebuild(now=CLOCK)
    client.get(url)  # warm caches (site root, content types)
    figures._figures_changed()  # as after a rebuild: the sums are read again
    with CaptureQueriesContext(connection) as small:
        client.get(url)
    small_world(tree, people)
    for day in range(1, 6):
        grid_report(
            tree,
            people,
            council=tree["other_village"],
            reporter=people["other_committee"],
            now=at(day, month=4),
        )
    figures.rebuild(now=CLOCK)
    with CaptureQueriesContext(connection) as big:
        response = client.get(url)
    assert response.context["total"].reported == 11
    assert len(big.captured_queries) == len(small.captured_queries)


def test_the_page_keeps_its_sums_until_the_next_rebuild(client, tree, people):
    url = figures_url(tree["township"], **{"from": "2026-03", "to": "2026-03"})
    grid_report(tree, people, now=at(2))
    figures.rebuild(now=CLOCK)
    assert client.get(url).context["total"].reported == 1
    with CaptureQueriesContext(connection) as first:
        client.get(url)
    grid_report(tree, people, now=at(3))
    assert client.get(url).context["total"].reported == 1  # not rebuilt yet
    figures.rebuild_changed(since=at(3), now=CLOCK)
    with CaptureQueriesContext(connection) as fresh:
        response = client.get(url)
    assert response.context["total"].reported == 2
    assert len(fresh.captured_queries) == len(first.captured_queries) + 2


@pytest.mark.parametrize(
    ("path", "inside", "outside"),
    [
        ("00010002", ["00010002", "000100020001", "00010002ZZZZ"], ["00010003", "00010001ZZZZ"]),
        ("0001000Z", ["0001000Z", "0001000Z0001"], ["00010010", "0001000Y0001"]),
        ("000Z", ["000Z", "000ZZZZZ"], ["0010", "001"]),
        ("ZZZZ", ["ZZZZ", "ZZZZ0001"], ["ZZZY"]),
    ],
)
def test_a_subtree_is_bounded_by_the_next_path(tree, path, inside, outside):
    council = tree["grid"]
    rows = [
        CaseFigure(
            council=council,
            council_path=other,
            month=MARCH,
            level=Whistle.ROUTINE,
            category=Category.ROADS + str(number),
        )
        for number, other in enumerate(inside + outside)
    ]
    CaseFigure.objects.bulk_create(rows)
    found = CaseFigure.objects.filter(figures.subtree(path)).values_list("council_path", flat=True)
    assert sorted(found) == sorted(inside)


def test_a_median_of_days_reads_in_days_on_the_page(tree, people, client):
    """Past two days the median is shown in whole days (a template once failed on it)."""
    import datetime as _dt

    from cases import figures as case_figures
    from cases import services as case_services

    start = _dt.datetime(2026, 3, 2, 1, 0, tzinfo=_dt.UTC)
    case = grid_report(tree, people, now=start)
    case_services.accept_case(user=people["grid_worker"], case=case, now=start)
    case_services.resolve_case(
        user=people["grid_worker"], case=case, outcome="修好了", now=start + _dt.timedelta(days=3)
    )
    case_services.confirm_case(
        user=people["grid_worker"], case=case, satisfaction=5, now=start + _dt.timedelta(days=3)
    )
    case_figures.rebuild(now=start + _dt.timedelta(days=4))
    response = client.get(f"/cases/councils/{tree['township'].pk}/figures/?from=2026-03&to=2026-03")
    assert response.status_code == 200
    assert "3 days" in response.content.decode()
