"""The big screen of a township's service centre (1920x1080, dark) follows a case live: a case
under the township closes and the screen's count of open cases drops without a reload. The
council page's figures and the dashboard fit a 360-px phone; axe finds nothing serious on the
three pages."""

import pytest
from playwright.sync_api import expect

from governance import dashboards
from tests.browser.test_accessibility import FAILING_IMPACTS, axe_findings
from tests.councils.factories import make_tree
from tests.governance.cases_made import case_people, close, report
from tests.governance.rows import metric_value

pytestmark = pytest.mark.browser

SCREEN = {"width": 1920, "height": 1080}


def screen_world():
    tree = make_tree()
    people = case_people(tree)
    lamp = report(tree, people, title="路灯不亮")
    report(tree, people, title="水沟堵了")
    month = dashboards.this_month().start
    last = dashboards.last_complete_month().start
    township = tree["township"]
    for key, value, counts in (
        ("case_closure", "66.7", (2, 3)),
        ("case_on_time", "50", (1, 2)),
        ("case_satisfaction", "4.5", (9, 2)),
        ("disclosure_on_time", "100", (4, 4)),
        ("questions_on_time", "75", (3, 4)),
        ("quorum_rate", "100", (1, 1)),
        ("budget_turnout", "42.3", (110, 260)),
    ):
        metric_value(township, key, month, value, *counts)
    for n in range(1, 12):
        start = dashboards.months_before(month, n)
        metric_value(township, "case_closure", start, str(40 + 5 * n % 55), n, 12)
        if n > 1:
            metric_value(tree["village"], "case_closure", start, str(50 + 3 * n), n, 12)
    metric_value(tree["village"], "case_closure", last, "90", 9, 10)
    metric_value(tree["other_village"], "case_closure", last, "40", 2, 5)
    return {"tree": tree, "people": people, "lamp": lamp}


def test_the_screen_follows_a_case_that_closes(browser, live_url, off_loop, shots):
    w = off_loop(screen_world)
    township = w["tree"]["township"]
    context = browser.new_context(base_url=live_url, viewport=SCREEN, locale="zh-CN")
    context.add_cookies([{"name": "django_language", "value": "zh-hans", "url": live_url}])
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        assert page.goto(f"/governance/councils/{township.pk}/screen/").status == 200
        main = page.locator("#gov-screen")
        expect(main).to_have_attribute("data-live-state", "live")
        expect(page.locator("#screen-open-cases")).to_have_text("2")
        # One screen, no scrolling.
        assert page.evaluate(
            "document.documentElement.scrollHeight <= 1080"
            " && document.documentElement.scrollWidth <= 1920"
        ), "the big screen scrolls"
        shots(page, "screen")

        off_loop(close, w["lamp"], w["people"])
        expect(page.locator("#screen-open-cases")).to_have_text("1")
        expect(main).to_have_attribute("data-live-state", "live")
        # The page was not reloaded: the socket and the script are the same.
        assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
        shots(page, "screen-after-closing")

        # The tasks run (the cases' figures, then the governance figures of this month): the
        # recompute tells the screen, which shows the stored figure of 1 case closed of 2.
        tile = page.locator('[data-metric="case_closure"]')
        expect(tile.locator(".gov-tile-value")).to_have_text("66.7%")
        off_loop(recompute_this_month)
        expect(tile.locator(".gov-tile-value")).to_have_text("50.0%")
        expect(tile.locator(".gov-tile-counts")).to_have_text("1 / 2")
        assert page.evaluate("performance.getEntriesByType('navigation').length") == 1
        shots(page, "screen-after-the-recompute")
        found = [f for f in axe_findings(page, _axe()) if f["impact"] in FAILING_IMPACTS]
        assert not found, found
    finally:
        context.close()


def recompute_this_month():
    """What the task runner does a minute and a few minutes after a case moved."""
    from cases import figures as case_figures
    from governance import figures

    case_figures.rebuild()
    month = dashboards.this_month()
    figures.recompute(period_kind=month.kind, period_start=month.start)


def _axe():
    from tests.browser.conftest import AXE

    return AXE.read_text(encoding="utf-8") if AXE.exists() else ""


def test_the_figures_and_the_dashboard_fit_a_phone(open_context, off_loop, axe_source, shots):
    w = off_loop(screen_world)
    tree = w["tree"]
    phone = open_context(phone=True, language="zh-hans")
    pages = {
        "council-section": (tree["township"].url, "#gov-figures-heading"),
        "dashboard": (f"/governance/councils/{tree['township'].pk}/dashboard/", ".gov-ranking"),
        "dashboard-district": (
            f"/governance/councils/{tree['district'].pk}/dashboard/?minimum=10",
            ".gov-ranking",
        ),
    }
    problems = {}
    for name, (path, ready) in pages.items():
        assert phone.goto(path).status == 200, path
        expect(phone.locator(ready).first).to_be_visible()
        assert phone.evaluate("document.documentElement.scrollWidth <= 360"), f"{name} too wide"
        if name.startswith("dashboard"):
            # The figure is in view without scrolling the table sideways.
            heading = phone.locator("th.gov-measure").bounding_box()
            assert heading["x"] + heading["width"] <= 360, f"{name}: the figure is off screen"
        shots(phone, name)
        found = [f for f in axe_findings(phone, axe_source) if f["impact"] in FAILING_IMPACTS]
        if found:
            problems[name] = found
    assert not problems, problems
