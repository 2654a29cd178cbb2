"""axe-core on every main page, in Chinese (the default) on a phone: no serious or critical finding.

axe is injected with page.evaluate, which the page's Content-Security-Policy does not govern (a
<script> tag would be refused: script-src 'self'), so the pages are checked with their real CSP.
"""

import datetime
import json
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from budgets import services as budgets
from councils.models import Role
from deliberation import services as deliberation
from disclosure import services as disclosure
from meetings import services as sessions
from meetings.models import SessionKind
from tests.budgets.factories import add_proposal, make_cycle
from tests.councils.factories import make_tree, member
from tests.deliberation.factories import HallFactory, TopicFactory
from tests.disclosure.factories import draft, line, publish

pytestmark = pytest.mark.browser

# What fails the test. "moderate" and "minor" findings are listed in the failure report of a
# failing run but do not fail it on their own.
FAILING_IMPACTS = {"serious", "critical"}


def village_with_everything():
    tree = make_tree()
    village = tree["village"]
    committee = member(village)
    member(village, Role.COMMITTEE, user=committee)
    supervisor = member(village)
    member(village, Role.SUPERVISOR, user=supervisor)
    resident = member(village)

    hall = HallFactory(council=village, title="柳树村议事厅")
    topic = TopicFactory(hall=hall, author=resident, title="村口路面积水，雨天难走")
    first = deliberation.post_message(topic=topic, author=resident, body="建议先挖排水沟。").message
    deliberation.post_message(
        topic=topic, author=committee, body="村委会下周去看现场。", reply_to=first.seq
    )

    cycle = make_cycle(village, ballot_type="knapsack", total_amount=Decimal("100000"))
    add_proposal(cycle, "修村口排水沟", 60000)
    add_proposal(cycle, "安装路灯", 30000)
    receipt = budgets.cast_ballot(
        voter=committee, cycle=cycle, choices={cycle.proposals.first().pk: 1}
    ).receipt_code

    month = (timezone.localdate().replace(day=1) - datetime.timedelta(days=1)).replace(day=1)
    record = draft(village, committee, start=month, title=f"{month:%Y年%m月}财务收支明细")
    line(record, committee, expense=Decimal("1280.50"), description="村委会办公用品")
    line(record, committee, income=Decimal("5000"), description="鱼塘承包租金")
    record = publish(record, committee=committee, supervisor=supervisor)
    asked = disclosure.ask_question(record=record, by=resident, text="办公用品买了哪些？")
    disclosure.answer_question(question=asked, by=committee, answer="纸张和墨盒，发票已附。")
    disclosure.ask_question(record=record, by=resident, text="租金什么时候到账？")
    in_review = draft(village, committee, start=month, title="待审核的财务明细")
    line(in_review, committee, expense=Decimal("300"), description="电费")
    disclosure.submit_for_review(record=in_review, by=committee)

    session = sessions.schedule_session(
        actor=committee,
        council=village,
        kind=SessionKind.REPRESENTATIVES,
        title="第四季度村民代表会议",
        starts_at=timezone.now() + datetime.timedelta(hours=1),
        place="村委会会议室",
    )
    sessions.add_agenda_item(actor=committee, session=session, title="村口排水沟方案")
    session = sessions.open_session(early=True, actor=committee, session=session)
    sessions.add_motion(actor=committee, session=session, title="同意修建村口排水沟")
    return {
        "village": village,
        "committee": committee,
        "supervisor": supervisor,
        "resident": resident,
        "hall": hall,
        "topic": topic,
        "cycle": cycle,
        "receipt": receipt,
        "record": record,
        "in_review": in_review,
        "session": session,
    }


def axe_findings(page, axe_source: str) -> list[dict]:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source)
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {resultTypes: ["violations"]});
            return r.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map(n => n.target.join(" ") + " :: "
                    + n.failureSummary.replace(/\\s+/g, " "))
            }));
        }"""
    )
    return result


def test_main_pages_have_no_serious_accessibility_problems(
    open_context, axe_source, shots, off_loop
):
    w = off_loop(village_with_everything)
    cycle, record = w["cycle"], w["record"]
    # (who, path, what must be on the page before it is checked)
    pages = {
        "sign-in": (None, "/accounts/login/", "form"),
        "sign-in-code": (None, "/accounts/login/code/", "form"),
        "home": (None, "/", "main"),
        "council": ("resident", w["village"].url, "#halls-heading"),
        "hall": ("resident", w["hall"].get_absolute_url(), ".topic-list"),
        "topic": ("resident", w["topic"].get_absolute_url(), "#post-form"),
        "budget-cycle": ("resident", cycle.get_absolute_url(), "main h1"),
        "ballot": ("resident", f"/budgets/cycles/{cycle.pk}/vote/", "form.ballot"),
        "receipt-check": (None, f"/budgets/cycles/{cycle.pk}/check/", "form"),
        "ledger": (None, f"/disclosure/{w['village'].pk}/finance/", ".records"),
        "record-and-questions": ("resident", record.get_absolute_url(), "#questions"),
        "record-in-review": ("supervisor", w["in_review"].get_absolute_url(), ".workflow"),
        "disclosure-dashboard": (
            "committee",
            f"/disclosure/{w['village'].pk}/dashboard/",
            "#questions-heading",
        ),
        "session": ("resident", w["session"].get_absolute_url(), "main h1"),
    }
    pages_of = {}
    problems = {}
    for name, (who, path, ready) in pages.items():
        if who not in pages_of:
            pages_of[who] = open_context(w[who] if who else None, phone=True, language="zh-hans")
        page = pages_of[who]
        response = page.goto(path)
        assert response.status == 200, f"{name}: {path} answered {response.status}"
        expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
        expect(page.locator(ready).first).to_be_visible()
        if name == "topic":
            expect(page.locator("#live-status")).not_to_be_empty()  # the live script ran
        shots(page, name)
        found = [f for f in axe_findings(page, axe_source) if f["impact"] in FAILING_IMPACTS]
        if found:
            problems[name] = found
    assert not problems, "axe found serious problems:\n" + json.dumps(
        problems, ensure_ascii=False, indent=1
    )

    # The check is not blind: an image without a text alternative on the same page is caught.
    page.evaluate(
        """() => { const img = document.createElement("img");
                   img.src = "/static/missing.png"; document.querySelector("main").append(img); }"""
    )
    assert "image-alt" in {f["id"] for f in axe_findings(page, axe_source)}
