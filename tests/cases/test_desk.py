"""The township's side of the cases desk: the board (counts by level and age, overdue, the list
and its filters), the level rules and the public page. Refusals outnumber permissions; query
counts do not grow with the cases; the public page never shows what a private case is about."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from cases import selectors, services
from cases.models import (
    Category,
    DepartmentKind,
    DepartmentMember,
    LevelRule,
    Source,
    Status,
    Whistle,
)
from councils.models import CouncilAction
from tests.cases.conftest import grid_report
from tests.councils.factories import UserFactory

pytestmark = pytest.mark.django_db

HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)
NOW = timezone.make_aware(datetime.datetime(2026, 11, 20, 10, 0))


def board_url(council):
    return reverse("cases:board", args=[council.pk])


def rules_url(council):
    return reverse("cases:rules", args=[council.pk])


def public_url(council):
    return reverse("cases:public", args=[council.pk])


def reported(tree, people, age, **kwargs):
    """A case reported `age` before NOW (a grid report in the grid unless told otherwise)."""
    return grid_report(tree, people, now=NOW - age, **kwargs)


def accepted(tree, people, age, accepted_after=HOUR, by="committee", **kwargs):
    """A routine case accepted by the village committee `accepted_after` its report."""
    case = reported(tree, people, age, **kwargs)
    return services.accept_case(user=people[by], case=case, now=NOW - age + accepted_after)


def row(counts, level):
    return next(r for r in counts["rows"] if r["level"] == level)


# -- the counts ------------------------------------------------------------------------------------


@pytest.fixture
def hand_made(tree, people):
    """Cases of known ages and states around NOW (routine: 24 h to accept, 7 days to resolve;
    priority: 12 h and 5 days; difficult: 24 h and 15 days)."""
    made = {
        # Under 1 day: routine, waiting, not late.
        "fresh": reported(tree, people, 2 * HOUR),
        # Under 1 day: priority, waiting 13 h (12 h to accept): late.
        "priority_late": reported(tree, people, 13 * HOUR, level=Whistle.PRIORITY),
        # Exactly one day old: 1-3 days; routine, waiting 24 h: due now, not yet late.
        "one_day": reported(tree, people, DAY),
        # 1-3 days: routine, waiting two days: late to accept.
        "unaccepted": reported(tree, people, 2 * DAY),
        # 3-7 days: routine, accepted, 7 days to resolve: not late.
        "in_hand": accepted(tree, people, 5 * DAY),
        # 7-30 days: routine, accepted, past its 7 days: late to resolve.
        "slow": accepted(tree, people, 10 * DAY, category=Category.SANITATION),
        # 7-30 days: difficult, with the township, accepted, 15 days to resolve: not late.
        "difficult": reported(tree, people, 8 * DAY, level=Whistle.DIFFICULT),
        # Over 30 days: routine, resolved, waiting for the reporter: never late.
        "resolved": accepted(
            tree,
            people,
            40 * DAY,
            by="other_committee",
            council=tree["other_village"],
            reporter=people["official"],
        ),
        # Exactly 30 days: over 30 days.
        "month": accepted(tree, people, 30 * DAY, accepted_after=DAY),
    }
    services.accept_case(user=people["official"], case=made["difficult"], now=NOW - 8 * DAY + HOUR)
    services.resolve_case(
        user=people["other_committee"], case=made["resolved"], outcome="修好了", now=NOW - 39 * DAY
    )
    # Closed: not on the board at all.
    closed = accepted(tree, people, 3 * HOUR)
    services.resolve_case(user=people["committee"], case=closed, outcome="好了", now=NOW - HOUR)
    services.confirm_case(user=people["grid_worker"], case=closed, satisfaction=5, now=NOW)
    # Another township's case: only on the district's and the city's board.
    services.report_case(
        reporter=people["district_official"],
        council=tree["far_village"],
        source=Source.GRID_REPORT,
        category=Category.ROADS,
        level=Whistle.ROUTINE,
        title="桥面开裂",
        description="桥面有裂缝",
        now=NOW - 2 * DAY,
    )
    return made


def test_board_counts_open_cases_by_level_age_and_overdue(tree, hand_made):
    counts = selectors.board_counts(tree["township"], NOW)
    assert counts["buckets"] == ["day", "days", "week", "month", "older"]
    routine = row(counts, Whistle.ROUTINE)
    # fresh | one_day, unaccepted | in_hand | slow | resolved, month
    assert routine["buckets"] == [1, 2, 1, 1, 2]
    assert routine["open"] == 7
    assert routine["overdue"] == 3  # unaccepted, slow, month (accept, resolve, resolve)
    priority = row(counts, Whistle.PRIORITY)
    assert priority == {"level": "priority", "buckets": [1, 0, 0, 0, 0], "overdue": 1, "open": 1}
    difficult = row(counts, Whistle.DIFFICULT)
    assert difficult == {
        "level": "difficult",
        "buckets": [0, 0, 0, 1, 0],
        "overdue": 0,
        "open": 1,
    }
    assert counts["total"]["buckets"] == [2, 2, 1, 2, 2]
    assert counts["total"]["open"] == 9
    assert counts["total"]["overdue"] == 4
    assert counts["council"] == tree["township"].pk


def test_a_case_is_overdue_only_after_its_deadline(tree, people):
    case = reported(tree, people, DAY)  # 24 hours to accept: due exactly now
    assert selectors.board_counts(tree["township"], NOW)["total"]["overdue"] == 0
    later = NOW + datetime.timedelta(seconds=1)
    assert selectors.board_counts(tree["township"], later)["total"]["overdue"] == 1
    services.accept_case(user=people["committee"], case=case, now=later)
    assert selectors.board_counts(tree["township"], later)["total"]["overdue"] == 0
    # Seven days to resolve from the report.
    assert selectors.board_counts(tree["township"], NOW + 7 * DAY)["total"]["overdue"] == 1


def test_the_district_and_city_boards_add_up_their_townships(tree, hand_made):
    district = selectors.board_counts(tree["district"], NOW)
    city = selectors.board_counts(tree["city"], NOW)
    assert district["total"]["open"] == city["total"]["open"] == 10
    assert district["total"]["overdue"] == 5
    other = selectors.board_counts(tree["other_township"], NOW)
    assert other["total"] == {"level": "", "buckets": [0, 1, 0, 0, 0], "overdue": 1, "open": 1}


def test_board_counts_are_one_query(tree, hand_made, django_assert_num_queries):
    for council in (tree["township"], tree["district"]):
        with django_assert_num_queries(1):
            selectors.board_counts(council, NOW)


def test_an_empty_board_counts_zeros(tree):
    counts = selectors.board_counts(tree["other_township"], NOW)
    assert [r["open"] for r in counts["rows"]] == [0, 0, 0]
    assert counts["total"] == {"level": "", "buckets": [0] * 5, "overdue": 0, "open": 0}


def test_open_cases_list_overdue_first_then_oldest(tree, hand_made):
    cases = list(selectors.open_cases(tree["township"], {}, now=NOW))
    late = [c.pk for c in cases if c.late]
    assert late == [hand_made[k].pk for k in ("month", "slow", "unaccepted", "priority_late")]
    assert [c.pk for c in cases[4:]] == [
        hand_made[k].pk for k in ("resolved", "difficult", "in_hand", "one_day", "fresh")
    ]


def test_open_cases_filters(tree, hand_made):
    township = tree["township"]

    def pks(**filters):
        return {c.pk for c in selectors.open_cases(township, filters, now=NOW)}

    assert pks(level=Whistle.PRIORITY) == {hand_made["priority_late"].pk}
    assert pks(category=Category.SANITATION) == {hand_made["slow"].pk}
    assert pks(status=Status.RESOLVED) == {hand_made["resolved"].pk}
    assert pks(place=tree["other_village"]) == {hand_made["resolved"].pk}
    assert len(pks(place=tree["village"])) == 8
    assert pks(level=Whistle.ROUTINE, status=Status.REPORTED) == {
        hand_made[k].pk for k in ("fresh", "one_day", "unaccepted")
    }
    district = {c.pk for c in selectors.open_cases(tree["district"], {}, now=NOW)}
    assert len(district) == 10
    only_far = selectors.open_cases(tree["district"], {"place": tree["other_township"]}, now=NOW)
    assert [c.title for c in only_far] == ["桥面开裂"]


# -- the board page --------------------------------------------------------------------------------


def test_anonymous_is_sent_to_sign_in_from_the_board(client, tree):
    response = client.get(board_url(tree["township"]))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


@pytest.mark.parametrize(
    "who",
    [
        "resident",
        "committee",
        "grid_worker",
        "supervisor",
        "representative",
        "other_official",
        "other_committee",
    ],
)
def test_board_is_refused_to_all_but_the_township_and_above(client, tree, people, who):
    client.force_login(people[who])
    assert client.get(board_url(tree["township"])).status_code == 403


def test_board_is_refused_on_a_village_even_to_its_official(client, tree, people):
    client.force_login(people["official"])
    assert client.get(board_url(tree["village"])).status_code == 403
    assert client.get(board_url(tree["other_township"])).status_code == 403
    assert client.get(board_url(tree["district"])).status_code == 403
    assert client.get(reverse("cases:board", args=[999999])).status_code == 404


def test_official_sees_the_board_with_counts_and_overdue_first(client, tree, people):
    now = timezone.now()
    grid_report(tree, people, title="新修的路灯", now=now - HOUR)
    grid_report(tree, people, title="堵塞的水沟", now=now - 3 * DAY)
    client.force_login(people["official"])
    response = client.get(board_url(tree["township"]))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="board-counts"' in html
    assert f'data-board-township="{tree["township"].pk}"' in html
    assert html.index("堵塞的水沟") < html.index("新修的路灯")
    assert html.count('class="late"') == 1
    assert reverse("cases:departments", args=[tree["township"].pk]) in html
    assert reverse("cases:rules", args=[tree["township"].pk]) in html
    table = response.context["table"]
    assert table["total"]["open"] == 2 and table["total"]["overdue"] == 1
    assert "<script" not in html.split('id="board-counts"')[1].split("</section>")[0]


def test_district_official_sees_a_township_board_and_the_district_board(client, tree, people):
    grid_report(tree, people)
    client.force_login(people["district_official"])
    assert client.get(board_url(tree["township"])).status_code == 200
    response = client.get(board_url(tree["district"]))
    assert response.status_code == 200
    assert response.context["table"]["total"]["open"] == 1
    # No level rules on a district: they belong to a township.
    assert rules_url(tree["district"]) not in response.content.decode()


def test_board_filter_form_narrows_the_list_and_keeps_its_choices(client, tree, people):
    grid_report(tree, people, title="路灯坏了")
    grid_report(tree, people, title="垃圾堆积", category=Category.SANITATION)
    grid_report(
        tree,
        people,
        title="石桥村的井盖",
        council=tree["other_village"],
        reporter=people["official"],
    )
    client.force_login(people["official"])
    url = board_url(tree["township"])
    html = client.get(url, {"category": "sanitation"}).content.decode()
    assert "垃圾堆积" in html and "路灯坏了" not in html
    html = client.get(url, {"place": tree["other_village"].pk}).content.decode()
    assert "石桥村的井盖" in html and "垃圾堆积" not in html
    assert f'<option value="{tree["other_village"].pk}" selected>' in html
    # A village from another township is not a choice: the filter is refused and ignored.
    response = client.get(url, {"place": tree["far_village"].pk, "level": "routine"})
    assert response.status_code == 200
    assert response.context["form"].errors["place"]
    assert len(response.context["page_obj"].object_list) == 3


def test_board_pages_keep_the_filter(client, tree, people):
    for n in range(27):
        grid_report(tree, people, title=f"路灯{n}")
    client.force_login(people["official"])
    response = client.get(board_url(tree["township"]), {"level": "routine"})
    html = response.content.decode()
    assert "level=routine&amp;page=2" in html
    second = client.get(board_url(tree["township"]), {"level": "routine", "page": 2})
    assert len(second.context["page_obj"].object_list) == 2


def test_board_pages_without_a_filter_take_the_count_from_the_table(client, tree, people):
    for n in range(27):
        grid_report(tree, people, title=f"水管{n:02d}", now=NOW - n * HOUR)
    client.force_login(people["official"])
    url = board_url(tree["township"])
    first = client.get(url)
    assert first.context["page_obj"].paginator.count == 27
    assert "Page 1 of 2" in first.content.decode()
    titles = [case.title for case in first.context["page_obj"]]
    assert titles[:2] == ["水管26", "水管25"]  # all overdue: the oldest first
    second = client.get(url, {"page": 2})
    assert [case.title for case in second.context["page_obj"]] == ["水管01", "水管00"]
    assert all(case.late for case in second.context["page_obj"])
    # A page past the end shows the last one.
    assert client.get(url, {"page": 9}).context["page_obj"].number == 2


def test_the_counts_fragment_is_what_the_live_board_reads(client, tree, people):
    grid_report(tree, people, level=Whistle.DIFFICULT)
    url = reverse("cases:board_counts", args=[tree["township"].pk])
    assert client.get(url).status_code == 302
    for who in ("resident", "committee", "grid_worker", "other_official"):
        client.force_login(people[who])
        assert client.get(url).status_code == 403
    client.force_login(people["official"])
    board = client.get(board_url(tree["township"])).content.decode()
    assert f'data-counts-url="{url}"' in board
    assert f'data-ws="/ws/cases/boards/{tree["township"].pk}/"' in board
    assert "js/cases-board.js" in board
    fragment = client.get(url).content.decode()
    assert fragment.lstrip().startswith('<section id="board-counts"')
    assert '<tr data-level="difficult">' in fragment
    assert "<html" not in fragment and "<script" not in fragment


def test_board_counts_travel_as_plain_data_and_render_alone(tree, hand_made):
    import json

    from cases.views.desk import render_board_counts

    counts = selectors.board_counts(tree["township"], NOW)
    assert json.loads(json.dumps(counts)) == counts
    html = render_board_counts(counts)
    assert 'id="board-counts"' in html
    assert f'data-board-township="{tree["township"].pk}"' in html
    assert '<td data-bucket="overdue"><strong>3</strong></td>' in html  # routine


def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_board_queries_do_not_grow_with_the_cases(client, tree, people, django_assert_num_queries):
    office = services.register_department(
        user=people["official"], council=tree["township"], name="城管中队", kind="urban"
    )
    client.force_login(people["official"])
    url = board_url(tree["township"])
    client.get(url)  # warm the per-process caches (content types, the site)
    for n in range(2):
        grid_report(tree, people, title=f"第{n}件", level=Whistle.DIFFICULT)
    small = _count_queries(client, url)
    for n in range(18):
        case = grid_report(
            tree,
            people,
            title=f"另{n}件",
            level=list(Whistle)[n % 3],
            council=tree["other_village"] if n % 2 else tree["grid"],
            reporter=people["official"],
        )
        if n % 3 == 2:
            services.whistle_case(user=people["official"], case=case, department=office, reason="")
    with django_assert_num_queries(small):
        response = client.get(url)
    assert response.context["table"]["total"]["open"] == 20
    assert "城管中队" in response.content.decode()


# -- level rules -----------------------------------------------------------------------------------


def test_anonymous_is_sent_to_sign_in_from_the_rules(client, tree):
    response = client.get(rules_url(tree["township"]))
    assert response.status_code == 302
    response = client.post(rules_url(tree["township"]), {"level": "routine"})
    assert response.status_code == 302
    assert not LevelRule.objects.exists()


@pytest.mark.parametrize(
    "who", ["resident", "committee", "grid_worker", "supervisor", "other_official"]
)
def test_rules_are_refused_to_all_but_the_township(client, tree, people, who):
    client.force_login(people[who])
    url = rules_url(tree["township"])
    assert client.get(url).status_code == 403
    data = {
        "level": "routine",
        "routine-tier": "grid",
        "routine-accept_hours": "2",
        "routine-resolve_days": "3",
    }
    assert client.post(url, data).status_code == 403
    assert not LevelRule.objects.exists()


def test_rules_belong_to_a_township_only(client, tree, people):
    client.force_login(people["district_official"])
    assert client.get(rules_url(tree["district"])).status_code == 404
    assert client.get(rules_url(tree["village"])).status_code == 404


def test_rules_page_shows_the_defaults_and_saves_one_level(client, tree, people):
    client.force_login(people["official"])
    url = rules_url(tree["township"])
    response = client.get(url)
    assert response.status_code == 200
    forms = {row["level"]: row["form"] for row in response.context["rows"]}
    assert forms["difficult"].initial == {
        "tier": "township",
        "inform_township": True,
        "accept_hours": 24,
        "resolve_days": 15,
    }
    assert all(row["is_default"] for row in response.context["rows"])
    response = client.post(
        url,
        {
            "level": "priority",
            "priority-tier": "township",
            "priority-inform_township": "on",
            "priority-accept_hours": "6",
            "priority-resolve_days": "3",
        },
        follow=True,
    )
    assert response.status_code == 200
    rule = LevelRule.objects.get()
    assert (rule.level, rule.tier, rule.inform_township) == ("priority", "township", True)
    assert (rule.accept_hours, rule.resolve_days) == (6, 3)
    priority = next(r for r in response.context["rows"] if r["level"] == "priority")
    assert not priority["is_default"]
    assert priority["form"].initial["accept_hours"] == 6
    assert CouncilAction.objects.filter(council=tree["township"], verb="set_case_rule").exists()
    # The rule applies to the next case.
    case = grid_report(tree, people, level=Whistle.PRIORITY, now=NOW)
    assert case.handler_council == tree["township"]
    assert case.accept_due == NOW + 6 * HOUR


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("accept_hours", "0"),
        ("accept_hours", "721"),
        ("accept_hours", "三"),
        ("accept_hours", ""),
        ("resolve_days", "0"),
        ("resolve_days", "366"),
        ("resolve_days", "1.5"),
    ],
)
def test_bad_numbers_are_refused_with_a_message_and_the_input_kept(
    client, tree, people, field, value
):
    client.force_login(people["official"])
    data = {
        "level": "routine",
        "routine-tier": "grid",
        "routine-accept_hours": "10",
        "routine-resolve_days": "4",
        f"routine-{field}": value,
    }
    response = client.post(rules_url(tree["township"]), data)
    assert response.status_code == 400
    assert not LevelRule.objects.exists()
    form = next(r["form"] for r in response.context["rows"] if r["level"] == "routine")
    expected = "720 hours" if field == "accept_hours" else "365 days"
    assert expected in form.errors[field][0]
    html = response.content.decode()
    assert expected in html
    kept = "4" if field == "accept_hours" else "10"
    other = "resolve_days" if field == "accept_hours" else "accept_hours"
    assert f'name="routine-{other}" value="{kept}"' in html
    if value:
        assert f'value="{value}"' in html


def test_rules_refuse_an_unknown_level_or_tier(client, tree, people):
    client.force_login(people["official"])
    url = rules_url(tree["township"])
    response = client.post(url, {"level": "urgent"}, follow=True)
    assert "whistle level" in response.content.decode()
    response = client.post(
        url,
        {
            "level": "routine",
            "routine-tier": "city",
            "routine-accept_hours": "5",
            "routine-resolve_days": "5",
        },
    )
    assert response.status_code == 400
    assert not LevelRule.objects.exists()


# -- the public page -------------------------------------------------------------------------------


@pytest.fixture
def mixed(tree, people):
    """A public road case, a private demand and a dispute between two named parties."""
    road = grid_report(tree, people, title="村口路灯不亮", description="第三根灯杆", public=True)
    demand = grid_report(
        tree,
        people,
        reporter=people["resident"],
        source=Source.DEMAND,
        category=Category.WELFARE,
        title="低保申请进度",
        description="我家的低保材料交了两个月",
        public=True,  # asked, but welfare is never public
    )
    dispute = grid_report(
        tree,
        people,
        reporter=people["resident"],
        source=Source.DISPUTE,
        category=Category.NEIGHBOURS,
        title="宅基地边界纠纷",
        description="邻居占了我家的地",
        parties=[("applicant", "王小英"), ("respondent", "李大山")],
    )
    return {"road": road, "demand": demand, "dispute": dispute}


def test_public_page_shows_public_cases_and_nothing_of_private_ones(client, tree, people, mixed):
    assert not mixed["demand"].public and not mixed["dispute"].public
    for council in ("city", "district", "township", "village", "grid"):
        response = client.get(public_url(tree[council]))
        assert response.status_code == 200
        html = response.content.decode()
        assert "村口路灯不亮" in html
        for secret in (
            "宅基地边界纠纷",
            "王小英",
            "李大山",
            "邻居占了我家的地",
            "低保申请进度",
            "我家的低保材料交了两个月",
        ):
            assert secret not in html, (council, secret)
        # Names of the reporters, public or real, never appear either.
        for person in ("resident", "grid_worker"):
            assert people[person].public_name not in html
            assert people[person].real_name not in html
        assert reverse("cases:case", args=[mixed["road"].pk]) in html
        assert reverse("cases:case", args=[mixed["dispute"].pk]) not in html
    response = client.get(public_url(tree["other_township"]))
    assert "村口路灯不亮" not in response.content.decode()


def test_public_page_counts_every_case_without_naming_it(client, tree, people, mixed):
    figures = client.get(public_url(tree["township"])).context["figures"]
    assert figures["open"] == 3
    assert figures["reported_this_month"] == 3
    assert figures["closed_this_month"] == 0
    assert figures["closure_rate"] == 0
    road = services.accept_case(user=people["committee"], case=mixed["road"])
    services.resolve_case(user=people["committee"], case=road, outcome="换了灯")
    services.confirm_case(user=people["grid_worker"], case=road, satisfaction=4)
    figures = client.get(public_url(tree["village"])).context["figures"]
    assert figures["open"] == 2
    assert figures["closed_this_month"] == 1
    assert figures["closure_rate"] == 33
    assert client.get(public_url(tree["other_township"])).context["figures"]["open"] == 0


def test_public_figures_count_by_the_month(tree, people):
    last_month = NOW - 25 * DAY
    old = services.accept_case(
        user=people["committee"], case=reported(tree, people, 25 * DAY), now=last_month
    )
    services.resolve_case(user=people["committee"], case=old, outcome="好了", now=NOW - DAY)
    services.confirm_case(user=people["grid_worker"], case=old, satisfaction=5, now=NOW - DAY)
    reported(tree, people, 2 * DAY)
    figures = selectors.public_figures(tree["township"], NOW)
    assert figures["since"].date() == datetime.date(2026, 11, 1)
    assert figures["reported_this_month"] == 1
    assert figures["closed_this_month"] == 1
    assert figures["closure_rate"] == 0
    assert figures["open"] == 1


def test_public_page_queries_do_not_grow_with_the_cases(
    client, tree, people, django_assert_num_queries
):
    url = public_url(tree["township"])
    client.get(url)
    for n in range(2):
        grid_report(tree, people, title=f"路面{n}")
    small = _count_queries(client, url)
    for n in range(18):
        grid_report(
            tree,
            people,
            title=f"水沟{n}",
            council=tree["other_village"],
            reporter=people["official"],
        )
    with django_assert_num_queries(small):
        response = client.get(url)
    assert "水沟17" in response.content.decode()


def test_public_page_pages_through_the_public_cases(client, tree, people):
    for n in range(27):
        grid_report(tree, people, title=f"井盖{n:02d}", now=NOW - n * HOUR)
    url = public_url(tree["township"])
    first = client.get(url)
    html = first.content.decode()
    assert "井盖00" in html and "井盖25" not in html
    assert "?page=2" in html and "Page 1" in html
    second = client.get(url, {"page": 2}).content.decode()
    assert "井盖25" in second and "井盖26" in second and "井盖24" not in second
    assert "?page=1" in second and "?page=3" not in second
    for page in ("0", "x", "-3"):
        assert "井盖00" in client.get(url, {"page": page}).content.decode()


def test_public_page_of_an_unknown_council_is_not_found(client):
    assert client.get(reverse("cases:public", args=[999999])).status_code == 404
    # An id too large for the database (SQLite raised OverflowError on the page_ptr key).
    assert client.get(reverse("cases:public", args=[10**25])).status_code == 404


# -- registering a department is logged --------------------------------------------------------


def test_registering_a_department_is_logged_and_checks_its_kind(tree, people):
    from django.core.exceptions import ValidationError

    office = services.register_department(
        user=people["official"],
        council=tree["township"],
        name="白沙派出所",
        kind=DepartmentKind.POLICE,
    )
    assert CouncilAction.objects.filter(verb="add_department", target__contains="白沙派出所")
    with pytest.raises(ValidationError):
        services.register_department(
            user=people["official"], council=tree["township"], name="什么所", kind="army"
        )
    DepartmentMember.objects.create(department=office, user=UserFactory())
