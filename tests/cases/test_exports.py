"""Spreadsheets for officials: the cases of a subtree, the figures table. Opened back with
openpyxl: the rows are the cases asked for, and nothing personal is in them."""

import datetime
import io
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from cases import figures, services
from cases.models import Category, Source, Whistle
from tests.cases.conftest import grid_report

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(day, hour=9, month=3):
    return datetime.datetime(2026, month, day, hour, tzinfo=SHANGHAI)


def export_world(tree, people):
    public = grid_report(tree, people, title="村口路灯不亮", now=at(2))
    services.accept_case(user=people["official"], case=public, now=at(2, 10))
    services.resolve_case(user=people["official"], case=public, outcome="换灯泡", now=at(2, 12))
    services.confirm_case(user=people["grid_worker"], case=public, satisfaction=4, now=at(2, 13))
    private = grid_report(
        tree,
        people,
        title="张家漏水殃及邻居",
        description="张三家楼顶漏水，李四家墙面发霉，私下说是故意的",
        category=Category.NEIGHBOURS,
        public=False,
        place="张三家后院",
        now=at(3),
    )
    dispute = services.report_case(
        reporter=people["resident"],
        council=tree["village"],
        source=Source.DISPUTE,
        category=Category.LAND,
        level=Whistle.ROUTINE,
        title="宅基地边界争议",
        description="两家为宅基地边界争执多年",
        parties=[("applicant", "赵大牛"), ("respondent", "钱二狗")],
        now=at(4),
    )
    outside_range = grid_report(tree, people, title="四月的事", now=at(2, month=4))
    elsewhere = grid_report(
        tree,
        people,
        council=tree["far_village"],
        reporter=people["other_official"],
        title="别的镇",
        now=at(5),
    )
    return {
        "public": public,
        "private": private,
        "dispute": dispute,
        "outside_range": outside_range,
        "elsewhere": elsewhere,
    }


def cases_url(council, first="2026-03-01", last="2026-03-31"):
    return reverse("cases:export_cases", args=[council.pk]) + f"?from={first}&to={last}"


def figures_url(council, first="2026-03", last="2026-04"):
    return reverse("cases:export_figures", args=[council.pk]) + f"?from={first}&to={last}"


def workbook(response):
    data = b"".join(response.streaming_content)
    return load_workbook(io.BytesIO(data), read_only=True)


def all_text(book) -> str:
    return "\n".join(
        str(value)
        for sheet in book.worksheets
        for row in sheet.iter_rows(values_only=True)
        for value in row
        if value is not None
    )


def test_the_cases_export_has_one_row_per_case_of_the_subtree_and_range(client, tree, people):
    world = export_world(tree, people)
    client.force_login(people["official"])
    response = client.get(cases_url(tree["township"]))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment")
    assert f"yishi-{tree['township'].pk}-cases-2026-03-01-2026-03-31.xlsx" in disposition
    rows = list(workbook(response).worksheets[0].iter_rows(values_only=True))
    header, body = rows[0], rows[1:]
    assert header[0] == "Case number" and "Satisfaction (1-5)" in header
    assert [row[0] for row in body] == [
        world["public"].pk,
        world["private"].pk,
        world["dispute"].pk,
    ]
    first = dict(zip(header, body[0], strict=True))
    assert first["Reported at"] == datetime.datetime(2026, 3, 2, 9, 0)  # Shanghai time
    assert first["Where"] == "第1网格"
    assert first["Handled by"] == world["public"].handler_council.title
    assert first["Status"] == "Closed" and first["On time"] == "yes"
    assert first["Satisfaction (1-5)"] == 4 and first["Times reopened"] == 0
    assert first["Closed at"] == datetime.datetime(2026, 3, 2, 13, 0)
    assert first["Title (public cases only)"] == "村口路灯不亮"
    assert first["Whistle level"] == "Routine whistle" and first["Category"].startswith("Roads")


def test_nothing_personal_is_exported(client, tree, people):
    export_world(tree, people)
    client.force_login(people["official"])
    text = all_text(workbook(client.get(cases_url(tree["township"]))))
    assert "张家漏水殃及邻居" not in text  # a private case's title
    assert "张三家楼顶漏水" not in text  # its description
    assert "宅基地边界争议" not in text and "两家为宅基地" not in text
    assert "赵大牛" not in text and "钱二狗" not in text  # the parties
    assert "村口第三根路灯" not in text  # even a public case's description
    assert people["resident"].public_name not in text  # the reporters
    assert people["grid_worker"].public_name not in text
    assert people["grid_worker"].real_name not in text
    assert "张三家后院" not in text  # no place
    assert "别的镇" not in text and "四月的事" not in text


def test_a_village_export_has_only_the_village(client, tree, people):
    world = export_world(tree, people)
    client.force_login(people["committee"])
    body = list(
        workbook(client.get(cases_url(tree["village"]))).worksheets[0].iter_rows(values_only=True)
    )[1:]
    assert {row[0] for row in body} == {
        world["public"].pk,
        world["private"].pk,
        world["dispute"].pk,
    }


def test_the_figures_export_holds_the_figures_table(client, tree, people):
    export_world(tree, people)
    figures.rebuild()
    client.force_login(people["district_official"])
    response = client.get(figures_url(tree["township"]))
    assert response.status_code == 200
    assert (
        f"yishi-{tree['township'].pk}-figures-2026-03-2026-04.xlsx"
        in response["Content-Disposition"]
    )
    book = workbook(response)
    assert book.sheetnames == ["By month", "By whistle level", "By category"]
    rows = list(book["By month"].iter_rows(values_only=True))
    assert rows[0][:4] == ("Month", "Reported", "Closed", "Closure rate (%)")
    assert [row[:3] for row in rows[1:]] == [
        ("2026-03", 3, 1),
        ("2026-04", 1, 0),
        ("All cases", 4, 1),
    ]
    march = rows[1]
    assert march[3] == pytest.approx(33.3)  # 1 of 3 closed
    assert march[6] == 4  # the median time to close, in hours
    assert march[8] == pytest.approx(4.0)  # mean satisfaction
    levels = list(book["By whistle level"].iter_rows(values_only=True))
    assert [row[0] for row in levels[1:]] == [
        "Routine whistle",
        "Priority whistle",
        "Difficult whistle",
        "All cases",
    ]


def test_a_bad_range_is_refused(client, tree, people):
    client.force_login(people["official"])
    assert client.get(cases_url(tree["township"], "2026-03-31", "2026-03-01")).status_code == 400
    assert client.get(cases_url(tree["township"], "yesterday", "2026-03-01")).status_code == 400
    assert client.get(figures_url(tree["township"], "2026-13", "2026-14")).status_code == 400
    # Days whose bounds in Shanghai time fall outside what a date holds (a 500 before).
    assert client.get(cases_url(tree["township"], "0001-01-01", "0001-01-02")).status_code == 400
    assert client.get(cases_url(tree["township"], "2026-03-01", "9999-12-31")).status_code == 400
    assert client.get(figures_url(tree["township"], "9999-11", "9999-12")).status_code == 400


def test_too_many_cases_for_one_file_are_refused(client, tree, people, monkeypatch):
    from cases import exports

    export_world(tree, people)
    monkeypatch.setattr(exports, "MAX_CASE_ROWS", 2)
    client.force_login(people["official"])
    response = client.get(cases_url(tree["township"]))
    assert response.status_code == 400 and "too many" in response.content.decode()


# -- who may export --------------------------------------------------------------------------------

ALLOWED = [
    ("official", "township"),
    ("official", "village"),
    ("official", "grid"),
    ("district_official", "township"),
    ("district_official", "far_village"),
    ("committee", "village"),
]
REFUSED = [
    ("grid_worker", "grid"),
    ("grid_worker", "village"),
    ("resident", "village"),
    ("neighbour", "grid"),
    ("supervisor", "village"),
    ("representative", "village"),
    ("committee", "township"),
    ("other_official", "township"),
    ("other_official", "village"),
    ("other_committee", "village"),
    ("official", "far_village"),
    ("official", "district"),
]


@pytest.mark.parametrize(("name", "place"), ALLOWED)
def test_officials_and_the_committee_may_export(client, tree, people, name, place):
    client.force_login(people[name])
    assert client.get(cases_url(tree[place])).status_code == 200
    assert client.get(figures_url(tree[place])).status_code == 200


@pytest.mark.parametrize(("name", "place"), REFUSED)
def test_others_may_not_export(client, tree, people, name, place):
    client.force_login(people[name])
    assert client.get(cases_url(tree[place])).status_code == 403
    assert client.get(figures_url(tree[place])).status_code == 403


def test_anonymous_visitors_are_sent_to_sign_in(client, tree):
    for url in (cases_url(tree["village"]), figures_url(tree["village"])):
        response = client.get(url)
        assert response.status_code == 302 and "login" in response["Location"]
