"""一周一结: the week's figures of every grid and village, the signature, the pages.

The week is Monday 2 to Sunday 8 March 2026 (Shanghai). In the grid:

    A  routine, reported Mon 10:00, closed Tue (rated 5)
    B  priority, reported Tue, accepted, due to be resolved Sun 8 10:00: overdue at the end
    D  routine, reported the week before, rated 2 on Thu: reopened, in hand
    E  routine, reported the week before, closed Mon (rated 4)
    F  routine, reported Sun 23:30: new, open, not overdue (accept by Mon 23:30)
    G  routine, reported Mon 9 March 00:30: next week's
    H  routine, reported and closed in February
In the village itself:
    C  difficult, reported Wed, never accepted (accept by Thu): overdue at the end
In the other village:
    I  routine, reported Wed
"""

import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cases import services, summaries
from cases.models import WeeklySummary, Whistle
from core.models import TaskRun, TaskRunStatus
from councils.models import Level
from tests.cases.conftest import grid_report
from tests.councils.factories import make_council

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
WEEK = datetime.date(2026, 3, 2)
BUILT = datetime.datetime(2026, 3, 9, 1, 0, tzinfo=SHANGHAI)


def at(month, day, hour=10, minute=0):
    return datetime.datetime(2026, month, day, hour, minute, tzinfo=SHANGHAI)


def close(case, user, *, accepted, resolved, confirmed, satisfaction):
    services.accept_case(user=user, case=case, now=accepted)
    services.resolve_case(user=user, case=case, outcome="办好了", now=resolved)
    return services.confirm_case(
        user=case.reporter, case=case, satisfaction=satisfaction, now=confirmed
    )


def week_world(tree, people):
    handler = people["official"]  # handles whatever the tier: the role carries down
    committee = people["committee"]
    cases = {}
    cases["a"] = grid_report(tree, people, title="甲", now=at(3, 2))
    close(
        cases["a"],
        handler,
        accepted=at(3, 2, 11),
        resolved=at(3, 2, 12),
        confirmed=at(3, 3, 9),
        satisfaction=5,
    )
    cases["b"] = grid_report(tree, people, title="危房", level=Whistle.PRIORITY, now=at(3, 3))
    services.accept_case(user=handler, case=cases["b"], now=at(3, 3, 11))
    cases["c"] = grid_report(
        tree,
        people,
        council=tree["village"],
        reporter=committee,
        title="山体滑坡隐患",
        level=Whistle.DIFFICULT,
        now=at(3, 4),
    )
    cases["d"] = grid_report(tree, people, title="丁", now=at(2, 27))
    close(
        cases["d"],
        handler,
        accepted=at(2, 27, 11),
        resolved=at(3, 1),
        confirmed=at(3, 5),
        satisfaction=2,
    )
    cases["e"] = grid_report(tree, people, title="戊", now=at(2, 25))
    close(
        cases["e"],
        handler,
        accepted=at(2, 25, 11),
        resolved=at(2, 26),
        confirmed=at(3, 2, 10),
        satisfaction=4,
    )
    cases["f"] = grid_report(tree, people, title="己", now=at(3, 8, 23, 30))
    cases["g"] = grid_report(tree, people, title="庚", level=Whistle.PRIORITY, now=at(3, 9, 0, 30))
    cases["h"] = grid_report(tree, people, title="辛", now=at(2, 20))
    close(
        cases["h"],
        handler,
        accepted=at(2, 20, 11),
        resolved=at(2, 21),
        confirmed=at(2, 22),
        satisfaction=5,
    )
    cases["i"] = grid_report(
        tree,
        people,
        council=tree["other_village"],
        reporter=people["other_committee"],
        title="壬",
        now=at(3, 4),
    )
    return cases


def levels(routine=0, priority=0, difficult=0):
    return {
        "routine": routine,
        "priority": priority,
        "difficult": difficult,
        "total": routine + priority + difficult,
    }


def test_the_week_figures_of_a_grid_and_its_village_are_the_hand_computed_ones(tree, people):
    cases = week_world(tree, people)
    made = summaries.build_week(week_start=WEEK, now=BUILT)
    assert made == 4  # the grid and the three villages
    grid = WeeklySummary.objects.get(council=tree["grid"], week_start=WEEK)
    assert grid.built_at == BUILT and not grid.signed
    assert grid.figures == {
        "week_start": "2026-03-02",
        "week_end": "2026-03-08",
        "new": levels(routine=2, priority=1),
        "closed": 2,
        "open_at_end": 3,
        "overdue_at_end": levels(priority=1),
        "new_signals": [{"id": cases["b"].pk, "title": "危房", "level": "priority"}],
        "reopened": 1,
        "rated": 3,
        "satisfaction": 3.67,
    }
    village = WeeklySummary.objects.get(council=tree["village"], week_start=WEEK).figures
    assert village["new"] == levels(routine=2, priority=1, difficult=1)
    assert (village["closed"], village["open_at_end"]) == (2, 4)
    assert village["overdue_at_end"] == levels(priority=1, difficult=1)
    assert [s["title"] for s in village["new_signals"]] == ["山体滑坡隐患", "危房"]
    assert (village["reopened"], village["rated"], village["satisfaction"]) == (1, 3, 3.67)
    other = WeeklySummary.objects.get(council=tree["other_village"], week_start=WEEK).figures
    assert other["new"] == levels(routine=1)
    assert other["open_at_end"] == 1 and other["closed"] == 0
    assert other["satisfaction"] is None and other["new_signals"] == []


def test_signals_are_at_most_ten_difficult_first(tree, people):
    for hour in range(8):
        grid_report(tree, people, title=f"重点{hour}", level=Whistle.PRIORITY, now=at(3, 3, hour))
    for hour in range(4):
        grid_report(tree, people, title=f"疑难{hour}", level=Whistle.DIFFICULT, now=at(3, 4, hour))
    summaries.build_week(week_start=WEEK, councils=[tree["grid"]], now=BUILT)
    figures = WeeklySummary.objects.get(council=tree["grid"]).figures
    assert [s["title"] for s in figures["new_signals"]] == [
        "疑难0",
        "疑难1",
        "疑难2",
        "疑难3",
        "重点0",
        "重点1",
        "重点2",
        "重点3",
        "重点4",
        "重点5",
    ]
    assert figures["new"] == levels(priority=8, difficult=4)


def test_a_week_starts_on_a_monday(tree):
    with pytest.raises(ValidationError):
        summaries.build_week(week_start=WEEK + datetime.timedelta(days=1))
    assert not WeeklySummary.objects.exists()


def test_building_again_refreshes_unsigned_summaries_and_never_a_signed_one(tree, people):
    week_world(tree, people)
    summaries.build_week(week_start=WEEK, now=BUILT)
    grid = WeeklySummary.objects.get(council=tree["grid"])
    signed = summaries.sign_summary(
        user=people["grid_worker"],
        summary=grid,
        note="本周路灯问题较多",
        now=BUILT + datetime.timedelta(hours=2),
    )
    before = signed.figures
    grid_report(tree, people, title="补报", now=at(3, 6))
    rebuilt_at = BUILT + datetime.timedelta(hours=3)
    assert summaries.build_week(week_start=WEEK, now=rebuilt_at) == 3  # the villages only
    grid = WeeklySummary.objects.get(council=tree["grid"])
    assert grid.figures == before and grid.built_at == BUILT
    assert grid.note == "本周路灯问题较多" and grid.signed_by == people["grid_worker"]
    village = WeeklySummary.objects.get(council=tree["village"])
    assert village.figures["new"]["total"] == 5 and village.built_at == rebuilt_at


def test_a_signed_summary_refuses_a_second_signature(tree, people):
    summaries.build_week(week_start=WEEK, councils=[tree["grid"]], now=BUILT)
    summary = WeeklySummary.objects.get()
    summaries.sign_summary(user=people["grid_worker"], summary=summary, note="第一次")
    for user in (people["grid_worker"], people["committee"]):
        with pytest.raises(ValidationError):
            summaries.sign_summary(user=user, summary=summary, note="改一下")
    summary.refresh_from_db()
    assert summary.note == "第一次" and summary.signed_by == people["grid_worker"]


@pytest.mark.parametrize(
    "name",
    [
        "resident",
        "neighbour",
        "supervisor",
        "representative",
        "official",
        "district_official",
        "other_official",
        "other_committee",
    ],
)
def test_only_the_grid_staff_sign(tree, people, name):
    summaries.build_week(week_start=WEEK, councils=[tree["grid"]], now=BUILT)
    summary = WeeklySummary.objects.get()
    with pytest.raises(PermissionDenied):
        summaries.sign_summary(user=people[name], summary=summary, note="")
    summary.refresh_from_db()
    assert not summary.signed


@pytest.mark.parametrize("name", ["grid_worker", "committee"])
def test_the_grid_worker_or_the_village_committee_signs(tree, people, name):
    summaries.build_week(week_start=WEEK, councils=[tree["grid"]], now=BUILT)
    summary = summaries.sign_summary(
        user=people[name], summary=WeeklySummary.objects.get(), note="  平稳  ", now=BUILT
    )
    assert summary.signed and summary.signed_at == BUILT
    assert WeeklySummary.objects.get().note == "平稳"


@pytest.mark.parametrize("note", ["本周\x00平稳", "长" * 4001])
def test_a_note_with_a_null_character_or_too_long_is_refused(tree, people, note):
    summaries.build_week(week_start=WEEK, councils=[tree["grid"]], now=BUILT)
    with pytest.raises(ValidationError):
        summaries.sign_summary(
            user=people["grid_worker"], summary=WeeklySummary.objects.get(), note=note
        )
    assert not WeeklySummary.objects.get().signed


def test_a_note_with_an_id_number_is_refused(tree, people):
    summaries.build_week(week_start=WEEK, councils=[tree["grid"]], now=BUILT)
    with pytest.raises(ValidationError):
        summaries.sign_summary(
            user=people["grid_worker"],
            summary=WeeklySummary.objects.get(),
            note="当事人身份证 110105194912310021",
        )
    assert not WeeklySummary.objects.get().signed


def test_building_a_week_takes_the_same_queries_for_more_councils_and_cases(tree, people):
    grid_report(tree, people, now=at(3, 3))
    with CaptureQueriesContext(connection) as small:
        summaries.build_week(week_start=WEEK, now=BUILT)
    WeeklySummary.objects.all().delete()
    week_world(tree, people)
    for number in range(2, 6):
        make_council(tree["village"], level=Level.GRID, title=f"第{number}网格")
    with CaptureQueriesContext(connection) as big:
        assert summaries.build_week(week_start=WEEK, now=BUILT) == 8
    assert len(big.captured_queries) == len(small.captured_queries)


# -- the sweep -------------------------------------------------------------------------------------


def test_the_sweep_builds_last_week_once(tree, people, django_capture_on_commit_callbacks):
    week_world(tree, people)
    monday = at(3, 9, 0, 5)
    with django_capture_on_commit_callbacks(execute=True):
        assert summaries.sweep(now=monday) == {"weekly_summaries_started": 1}
    run = TaskRun.objects.get(work=summaries.BUILD_WEEK)
    assert run.status == TaskRunStatus.DONE and run.kwargs == {"week_start": "2026-03-02"}
    assert WeeklySummary.objects.filter(week_start=WEEK).count() == 4
    with django_capture_on_commit_callbacks(execute=True):
        assert summaries.sweep(now=monday + datetime.timedelta(minutes=1)) == {
            "weekly_summaries_started": 0
        }
        assert summaries.sweep(now=at(3, 12)) == {"weekly_summaries_started": 0}
    assert TaskRun.objects.filter(work=summaries.BUILD_WEEK).count() == 1


def test_the_sweep_starts_no_second_run_while_one_is_queued(tree, people):
    grid_report(tree, people, now=at(3, 3))
    TaskRun.objects.create(work=summaries.BUILD_WEEK, kwargs={"week_start": "2026-03-02"})
    assert summaries.sweep(now=at(3, 9, 8)) == {"weekly_summaries_started": 0}
    assert TaskRun.objects.count() == 1


def test_the_sweep_does_nothing_without_cases(tree):
    assert summaries.sweep(now=at(3, 9, 8)) == {"weekly_summaries_started": 0}
    assert not TaskRun.objects.exists()


# -- the pages -------------------------------------------------------------------------------------


@pytest.fixture
def summary(tree, people):
    week_world(tree, people)
    summaries.build_week(week_start=WEEK, now=BUILT)
    return WeeklySummary.objects.get(council=tree["grid"])


ALLOWED = ["grid_worker", "committee", "official", "district_official"]
REFUSED = [
    "resident",
    "neighbour",
    "supervisor",
    "representative",
    "other_official",
    "other_committee",
]


@pytest.mark.parametrize("name", ALLOWED)
def test_staff_and_officials_see_the_summaries(client, tree, people, summary, name):
    client.force_login(people[name])
    listing = client.get(reverse("cases:summaries", args=[tree["grid"].pk]))
    assert listing.status_code == 200
    assert reverse("cases:summary", args=[summary.pk]) in listing.content.decode()
    detail = client.get(reverse("cases:summary", args=[summary.pk]))
    assert detail.status_code == 200
    html = detail.content.decode()
    assert "危房" in html and "2026-03-02" in html and "2026-03-08" in html
    assert "case-figures.css" in html and "style=" not in html


@pytest.mark.parametrize("name", REFUSED)
def test_others_may_not_see_the_summaries(client, tree, people, summary, name):
    client.force_login(people[name])
    assert client.get(reverse("cases:summaries", args=[tree["grid"].pk])).status_code == 403
    assert client.get(reverse("cases:summary", args=[summary.pk])).status_code == 403
    response = client.post(reverse("cases:summary_sign", args=[summary.pk]), {"note": "x"})
    assert response.status_code == 403
    summary.refresh_from_db()
    assert not summary.signed


def test_anonymous_visitors_are_sent_to_sign_in(client, tree, summary):
    for url in (
        reverse("cases:summaries", args=[tree["grid"].pk]),
        reverse("cases:summary", args=[summary.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"]


def test_a_township_has_no_weekly_summaries(client, tree, people):
    client.force_login(people["official"])
    assert client.get(reverse("cases:summaries", args=[tree["township"].pk])).status_code == 404


def test_the_sign_form_is_for_those_who_may_sign(client, people, summary):
    url = reverse("cases:summary", args=[summary.pk])
    sign = reverse("cases:summary_sign", args=[summary.pk])
    client.force_login(people["official"])
    assert sign not in client.get(url).content.decode()
    client.force_login(people["grid_worker"])
    assert sign in client.get(url).content.decode()


def test_an_official_who_posts_a_signature_is_refused(client, people, summary):
    client.force_login(people["official"])
    response = client.post(reverse("cases:summary_sign", args=[summary.pk]), {"note": "签"})
    assert response.status_code == 302
    summary.refresh_from_db()
    assert not summary.signed


def test_signing_from_the_page_archives_the_summary(client, people, summary):
    client.force_login(people["grid_worker"])
    response = client.post(
        reverse("cases:summary_sign", args=[summary.pk]), {"note": "本周平稳"}, follow=True
    )
    assert response.status_code == 200
    summary.refresh_from_db()
    assert summary.signed and summary.note == "本周平稳"
    html = response.content.decode()
    assert "本周平稳" in html and people["grid_worker"].public_name in html
    assert "archived as it is" in html  # the page says it was done
    assert reverse("cases:summary_sign", args=[summary.pk]) not in html
    again = client.post(
        reverse("cases:summary_sign", args=[summary.pk]), {"note": "改"}, follow=True
    )
    assert "already signed" in again.content.decode()
    summary.refresh_from_db()
    assert summary.note == "本周平稳"


def test_a_refused_note_is_shown_again_as_typed(client, people, summary):
    """A week's note is long to retype: a refusal keeps it on the page, with the reason."""
    client.force_login(people["grid_worker"])
    note = "3组李家的低保材料还差一份，当事人身份证 110105194912310021"
    response = client.post(reverse("cases:summary_sign", args=[summary.pk]), {"note": note})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Remove the ID card number" in html and note in html
    summary.refresh_from_db()
    assert not summary.signed and summary.note == ""


def test_the_summary_prints_on_one_a4_page():
    css = (Path(settings.BASE_DIR) / "static" / "css" / "case-figures.css").read_text()
    printed = css[css.index("@media print") :]
    assert "size: A4" in printed
    assert ".no-print" in printed and ".site-header" in printed and "form" in printed
