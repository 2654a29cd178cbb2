"""axe-core on the pages of the cases desk, in Chinese on a phone: no serious or critical finding
(the main pages are in test_accessibility.py)."""

import json

import pytest
from playwright.sync_api import expect

from cases import figures, services, summaries
from cases.models import Category, DepartmentKind, DepartmentMember, Source, Whistle
from councils.models import Role
from tests.browser.test_accessibility import FAILING_IMPACTS, axe_findings
from tests.councils.factories import UserFactory, make_tree, member

pytestmark = pytest.mark.browser


def desk_world():
    tree = make_tree()
    grid, village, township = tree["grid"], tree["village"], tree["township"]
    grid_worker = member(grid, Role.GRID_WORKER)
    official = member(township, Role.OFFICIAL)
    resident = member(village)
    clerk = UserFactory()
    office = services.register_department(
        user=official, council=township, name="白沙司法所", kind=DepartmentKind.JUSTICE
    )
    DepartmentMember.objects.create(department=office, user=clerk)
    lamp = services.report_case(
        reporter=grid_worker,
        council=grid,
        source=Source.GRID_REPORT,
        category=Category.ROADS,
        level=Whistle.ROUTINE,
        title="路灯不亮",
        description="村口第三根路灯坏了一周",
        place="村口",
        public=True,
    )
    services.accept_case(user=grid_worker, case=lamp)
    dispute = services.report_case(
        reporter=resident,
        council=grid,
        source=Source.DISPUTE,
        category=Category.NEIGHBOURS,
        level=Whistle.DIFFICULT,
        title="宅基地纠纷",
        description="两户因围墙位置发生争执",
        parties=[("applicant", "王小英"), ("respondent", "李大山")],
    )
    services.whistle_case(user=official, case=dispute, department=office, reason="")
    figures.rebuild()
    summaries.build_week(week_start=summaries.last_week())
    return {
        "tree": tree,
        "grid_worker": grid_worker,
        "official": official,
        "clerk": clerk,
        "office": office,
        "lamp": lamp,
        "dispute": dispute,
    }


def test_case_pages_have_no_serious_accessibility_problems(
    open_context, axe_source, shots, off_loop
):
    w = off_loop(desk_world)
    grid, township = w["tree"]["grid"], w["tree"]["township"]
    from cases.models import WeeklySummary

    week = WeeklySummary.objects.filter(council=grid).first()
    pages = {
        "report-form": ("grid_worker", f"/cases/councils/{grid.pk}/report/grid_report/", "form"),
        "case-handler": ("grid_worker", f"/cases/{w['lamp'].pk}/", "#step-resolve"),
        "case-public": (None, f"/cases/{w['lamp'].pk}/", "main h1"),
        "department-desk": ("clerk", f"/cases/departments/{w['office'].pk}/", "main h1"),
        "case-department": ("clerk", f"/cases/{w['dispute'].pk}/", "#step-accept"),
        "board": ("official", f"/cases/councils/{township.pk}/board/", "#board-counts"),
        "rules": ("official", f"/cases/councils/{township.pk}/rules/", "form"),
        "departments": ("official", f"/cases/councils/{township.pk}/departments/", "main h1"),
        "figures": (None, f"/cases/councils/{township.pk}/figures/", ".figures-totals"),
        "public": (None, f"/cases/councils/{township.pk}/public/", "main h1"),
        "mine": ("grid_worker", "/cases/mine/", "main h1"),
    }
    if week is not None:
        pages["weekly-summary"] = ("grid_worker", f"/cases/weeks/{week.pk}/", "main h1")
    pages_of, problems = {}, {}
    for name, (who, path, ready) in pages.items():
        if who not in pages_of:
            pages_of[who] = open_context(w[who] if who else None, phone=True, language="zh-hans")
        page = pages_of[who]
        response = page.goto(path)
        assert response.status == 200, f"{name}: {path} answered {response.status}"
        expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
        expect(page.locator(ready).first).to_be_visible()
        assert page.evaluate("document.documentElement.scrollWidth <= 360"), f"{name} is too wide"
        shots(page, name)
        found = [f for f in axe_findings(page, axe_source) if f["impact"] in FAILING_IMPACTS]
        if found:
            problems[name] = found
    assert not problems, "axe found serious problems:\n" + json.dumps(
        problems, ensure_ascii=False, indent=1
    )
