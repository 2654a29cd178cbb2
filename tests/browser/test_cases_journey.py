"""Issue 18 end to end, in Chinese on 360-px phones: a grid worker reports a difficult whistle,
the township whistles it to its justice office, the department accepts and resolves it, the
grid worker confirms, and the township's closure rate changes. The township's board, open on a
desk, learns of each step live."""

import pytest
from playwright.sync_api import expect

from cases import figures
from cases.models import Case, DepartmentKind, DepartmentMember, Status
from councils.models import Role
from tests.councils.factories import UserFactory, make_tree, member

pytestmark = pytest.mark.browser

FITS = "document.documentElement.scrollWidth <= 360"


def test_a_difficult_whistle_from_report_to_closure(open_context, shots):
    tree = make_tree()
    grid, township = tree["grid"], tree["township"]
    grid_worker = member(grid, Role.GRID_WORKER)
    official = member(township, Role.OFFICIAL)
    clerk = UserFactory()
    from cases import services

    office = services.register_department(
        user=official, council=township, name="白沙司法所", kind=DepartmentKind.JUSTICE
    )
    DepartmentMember.objects.create(department=office, user=clerk)

    # The township's figures before: nothing reported.
    desk = open_context(official, language="zh-hans")
    desk.goto(f"/cases/councils/{township.pk}/figures/")
    expect(desk.locator(".figures-totals")).to_be_visible()
    before = desk.locator(".figures-totals dd").nth(2).inner_text()
    # The board, live.
    desk.goto(f"/cases/councils/{township.pk}/board/")
    expect(desk.locator("#board-counts")).to_be_visible()
    expect(desk.locator("#board-counts")).to_have_attribute("data-live-state", "live")
    total_before = desk.locator("#board-counts").inner_text()

    # 1. The grid worker reports on a phone.
    phone = open_context(grid_worker, phone=True, language="zh-hans")
    phone.goto(f"/cases/councils/{grid.pk}/report/grid_report/")
    assert phone.evaluate(FITS), "the report form is wider than the phone"
    phone.locator("#id_category").select_option("safety")
    phone.locator("input[name=level][value=difficult]").check()
    phone.locator("#id_title").fill("危房外墙开裂")
    phone.locator("#id_description").fill("村东头老屋外墙开裂，随时可能倒塌")
    phone.locator("#id_place").fill("村东头")
    shots(phone, "report-form")
    phone.locator("form.card button[type=submit]").click()
    case = Case.objects.get(title="危房外墙开裂")
    expect(phone.get_by_role("heading", level=1)).to_contain_text("危房外墙开裂")
    assert phone.evaluate(FITS), "the case page is wider than the phone"
    shots(phone, "reported")
    assert case.handler_council == township and case.level == "difficult"

    # The board has moved without a reload.
    expect(desk.locator("#board-counts")).not_to_have_text(total_before, timeout=15_000)
    shots(desk, "board-live")

    # 2. The township whistles in its justice office.
    desk.goto(f"/cases/{case.pk}/")
    desk.locator("#step-whistle select").select_option(str(office.pk))
    desk.locator("#step-whistle button[type=submit]").click()
    expect(desk.locator("main")).to_contain_text("白沙司法所")
    case.refresh_from_db()
    assert case.department == office and case.status == Status.REPORTED

    # 3. The department reports in and resolves, on a phone.
    dept = open_context(clerk, phone=True, language="zh-hans")
    dept.goto(f"/cases/departments/{office.pk}/")
    dept.locator(f'a[href="/cases/{case.pk}/"]').first.click()
    dept.locator("#step-accept button[type=submit]").click()
    expect(dept.locator("#step-resolve")).to_be_visible()
    dept.locator("#step-resolve textarea").fill("已联系住户搬离，外墙已加固")
    dept.locator("#step-resolve button[type=submit]").click()
    expect(dept.locator("#step-resolve")).to_have_count(0)
    assert dept.evaluate(FITS)
    shots(dept, "resolved")
    case.refresh_from_db()
    assert case.status == Status.RESOLVED

    # 4. The grid worker confirms: satisfied.
    phone.goto(f"/cases/{case.pk}/")
    phone.locator("#step-confirm [name=satisfaction][value='5']").check()
    phone.locator("#step-confirm button[type=submit]").click()
    expect(phone.locator("#step-confirm")).to_have_count(0)
    shots(phone, "closed")
    case.refresh_from_db()
    assert case.status == Status.CLOSED

    # 5. The figures are rebuilt (the reaper's sweep) and the closure rate has changed.
    figures.sweep()
    desk.goto(f"/cases/councils/{township.pk}/figures/")
    after = desk.locator(".figures-totals dd").nth(2).inner_text()
    assert after != before
    assert "100" in after
    shots(desk, "figures")
