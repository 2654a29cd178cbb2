"""XSS: what people write is rendered as text on every page that shows it, and sent as data.

Every user-written field gets a payload with its own number; each page that shows the field
must contain the payload escaped (so the test cannot pass by not showing it) and no page may
contain it raw: no <script> of ours is inline, so any raw one came from a user.
"""

import datetime
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from budgets import services as budget_services
from budgets.models import ProgressStatus
from councils import services as council_services
from deliberation import services as hall_services
from disclosure import services as disclosure_services
from meetings import services as sessions
from tests.budgets.factories import make_cycle
from tests.deliberation.factories import session_cookie
from tests.security.world import MARCH, World
from yishi.asgi import application

ROOT = Path(__file__).resolve().parents[2]
RAW = [
    re.compile(r"<script>alert", re.I),
    re.compile(r"<img src=x", re.I),
    re.compile(r"""href\s*=\s*["']?\s*javascript:""", re.I),
    re.compile(r"""<[a-z]+[^>]*\son[a-z]+\s*=\s*["']?alert""", re.I),  # an injected handler
]


class Payloads:
    """Numbered payloads; `short` fits 40 characters (names, house numbers)."""

    def __init__(self):
        self.n = 0

    def short(self) -> tuple[int, str]:
        self.n += 1
        return self.n, f'"><script>alert({self.n})</script>'

    def long(self) -> tuple[int, str]:
        self.n += 1
        n = self.n
        return n, (
            f'"><script>alert({n})</script><img src=x onerror=alert({n})> '
            f'javascript:alert({n}) <a href="javascript:alert({n})">x</a>'
        )


def escaped(n: int) -> str:
    return f"&lt;script&gt;alert({n})&lt;/script&gt;"


def written_everywhere(world: World, p: Payloads) -> dict[tuple[str, str], list[int]]:
    """Write a payload into every user-written field; returns (page, role) -> payload numbers."""
    w, clerk, village = world, world.clerk, world.village
    expect: dict[tuple[str, str], list[int]] = {}

    def shows(path, role, *numbers):
        expect.setdefault((path, role), []).extend(numbers)

    # People: display names appear next to what they write.
    author = w.people["resident"]
    n_name, author.display_name = p.short()
    author.save()

    # Councils: a join request's house number and message, a rejection's reason, a household.
    applicant = w.people["other_resident"]
    n_house, house = p.short()
    n_note, note = p.long()
    asked = council_services.request_membership(
        user=applicant, council=village, house_number=house, message=note
    )
    n_reject, reject = p.long()
    council_services.reject_membership(membership_id=asked.pk, by=clerk, reason=reject)
    shows(reverse("councils:profile"), "other_resident", n_reject)
    rejected = reverse("councils:members", args=[village.pk]) + "?status=rejected"
    shows(rejected, "committee", n_house, n_note)
    n_household, household = p.short()
    council_services.save_household(council=village, number=household, by=clerk)
    shows(reverse("councils:households", args=[village.pk]), "committee", n_household)

    # Halls: topic, messages, moderation, answer, status reason, consultation days.
    (n_title, title), (n_desc, desc), (n_loc, loc) = p.short(), p.long(), p.long()
    topic = hall_services.raise_topic(
        author=author, hall=w.hall, title=title, description=desc, location=loc
    )
    topic_page = reverse("deliberation:topic", args=[topic.pk])
    shows(reverse("deliberation:hall", args=[w.hall.pk]), "anonymous", n_title)
    n_body, body = p.long()
    hall_services.post_message(author=author, topic=topic, body=body)
    _n_hidden_body, hidden_body = p.long()
    hidden = hall_services.post_message(author=author, topic=topic, body=hidden_body).message
    n_mod, mod = p.long()
    hall_services.moderate_message(actor=clerk, message=hidden, action="hide", reason=mod)
    n_answer, answer = p.long()
    hall_services.answer_topic(actor=clerk, topic=topic, answer=answer)
    n_status, status = p.long()
    hall_services.change_topic_status(actor=clerk, topic=topic, status="closed", reason=status)
    shows(
        topic_page, "anonymous", n_name, n_title, n_desc, n_loc, n_body, n_mod, n_answer, n_status
    )
    shows(topic_page, "committee", n_mod)  # a hidden body stays hidden, even here

    (n_dt, dt), (n_place, place), (n_off, officials) = p.short(), p.long(), p.long()
    day = hall_services.schedule_consultation_day(
        actor=clerk,
        hall=w.hall,
        title=dt,
        starts_at=timezone.now() + datetime.timedelta(days=2),
        place=place,
        officials=officials,
    )
    n_reg, reg = p.long()
    hall_services.register_for_day(user=author, day=day, note=reg)
    shows(reverse("deliberation:day", args=[day.pk]), "committee", n_dt, n_place, n_off, n_reg)
    past = w.past_day
    n_outcome, outcome = p.long()
    hall_services.publish_day_outcome(actor=clerk, day=past, outcome=outcome)
    shows(reverse("deliberation:day", args=[past.pk]), "anonymous", n_outcome)

    # Sessions: title, place, agenda, motions, minutes and their correction.
    (n_st, st), (n_sp, sp) = p.short(), p.long()
    session = sessions.schedule_session(
        actor=clerk,
        council=village,
        kind="representatives",
        title=st,
        starts_at=timezone.now() + datetime.timedelta(hours=1),
        place=sp,
    )
    (n_at, at), (n_ad, ad) = p.long(), p.long()
    sessions.add_agenda_item(actor=clerk, session=session, title=at, description=ad)
    session = sessions.open_session(early=True, actor=clerk, session=session)
    (n_mt, mt), (n_mx, mx) = p.long(), p.long()
    sessions.add_motion(actor=clerk, session=session, title=mt, text=mx)
    shows(
        reverse("meetings:session", args=[session.pk]),
        "anonymous",
        n_st,
        n_sp,
        n_at,
        n_ad,
        n_mt,
        n_mx,
    )
    shows(reverse("meetings:session_screen", args=[session.pk]), "anonymous", n_st)
    sessions.close_session(actor=clerk, session=session)
    n_narr, narrative = p.long()
    minutes = sessions.draft_minutes(actor=clerk, session=session, narrative=narrative)
    minutes = sessions.publish_minutes(actor=clerk, minutes=minutes)
    shows(reverse("meetings:minutes", args=[minutes.pk]), "anonymous", n_narr)
    (n_cn, cn), (n_cr, cr) = p.long(), p.long()
    correction = sessions.correct_minutes(actor=clerk, minutes=minutes, narrative=cn, reason=cr)
    shows(reverse("meetings:minutes", args=[correction.pk]), "committee", n_cn, n_cr)

    # Three openings: record, lines, objection, correction, questions and answers.
    (n_rt, rt), (n_rb, rb) = p.short(), p.long()
    record = disclosure_services.draft_record(
        council=village,
        by=clerk,
        kind="finance",
        record_type="statement",
        period_kind="month",
        period_start=MARCH,
        title=rt,
        body=rb,
    )
    (n_ld, ld), (n_lv, lv), (n_la, la), (n_lc, lc) = p.long(), p.short(), p.short(), p.long()
    disclosure_services.add_line_item(
        record=record,
        by=clerk,
        date=MARCH,
        description=ld[:200],
        income=Decimal("100"),
        voucher_number=lv,
        account=la,
        counterparty=lc[:100],
    )
    disclosure_services.submit_for_review(record=record, by=clerk)
    n_obj, obj = p.long()
    disclosure_services.object_to_record(record=record, by=w.clerk_supervisor, reason=obj)
    disclosure_services.submit_for_review(record=record, by=clerk)
    disclosure_services.sign_off_record(record=record, by=w.clerk_supervisor)
    record = disclosure_services.publish_record(record=record, by=clerk)
    record_page = reverse("disclosure:record", args=[record.pk])
    n_q, q = p.long()
    question = disclosure_services.ask_question(record=record, by=author, text=q)
    n_qa, qa = p.long()
    disclosure_services.answer_question(question=question, by=clerk, answer=qa)
    shows(record_page, "anonymous", n_rt, n_rb, n_ld, n_lv, n_la, n_lc, n_obj, n_q, n_qa)
    shows(reverse("disclosure:ledger", args=[village.pk, "finance"]), "anonymous", n_rt)
    shows(reverse("disclosure:notice", args=[record.pk]), "anonymous", n_rt, n_rb)
    n_corr, corr = p.long()
    fixed = disclosure_services.correct_record(original=record, by=clerk, reason=corr)
    shows(reverse("disclosure:record", args=[fixed.pk]), "committee", n_corr)

    # Budgets: cycle, proposal fields, review, override, progress, rating.
    (n_ct, ct), (n_cd, cd) = p.short(), p.long()
    cycle = make_cycle(village, phase="collect", title=ct, description=cd)
    (n_pt, pt), (n_pd, pd), (n_pl, pl), (n_pb, pb) = p.short(), p.long(), p.long(), p.long()
    proposal = budget_services.submit_proposal(
        author=author,
        cycle=cycle,
        title=pt,
        description=pd,
        estimated_cost=Decimal("100"),
        location=pl,
        beneficiaries=pb,
    )
    n_rr, rr = p.long()
    budget_services.review_proposal(by=clerk, proposal=proposal, feasible=True, reason=rr)
    shows(reverse("budgets:cycle", args=[cycle.pk]), "anonymous", n_ct, n_cd, n_pt)
    shows(
        reverse("budgets:proposal", args=[proposal.pk]), "anonymous", n_pt, n_pd, n_pl, n_pb, n_rr
    )

    w.published_cycle  # noqa: B018 - a cycle whose results are published, with a funded project
    n_ov, ov = p.long()
    budget_services.override_result(by=clerk, proposal=w.funded, funded=True, reason=ov)
    n_pn, pn = p.long()
    budget_services.post_progress(
        by=clerk, proposal=w.funded, status=ProgressStatus.DONE, note=pn, spent_so_far=Decimal(1)
    )
    n_rc, rc = p.long()
    budget_services.rate_project(user=author, proposal=w.funded, score=4, comment=rc)
    shows(reverse("budgets:proposal", args=[w.funded.pk]), "anonymous", n_ov, n_pn, n_rc)
    shows(reverse("budgets:results", args=[w.closed_cycle.pk]), "anonymous")
    return expect


@pytest.mark.django_db
def test_user_written_fields_are_rendered_escaped_on_every_page(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    world, payloads = World(), Payloads()
    expect = written_everywhere(world, payloads)
    problems = []
    for (path, role), numbers in expect.items():
        client = Client()
        if world.people.get(role) is not None:
            client.force_login(world.people[role])
        response = client.get(path)
        assert response.status_code == 200, (path, role, response.status_code)
        html = response.content.decode()
        for pattern in RAW:
            for hit in pattern.finditer(html):
                problems.append(f"{path}: raw {hit.group(0)!r}")
        for n in numbers:
            if escaped(n) not in html:
                problems.append(f"{path}: payload {n} not shown (escaped) for {role}")
    assert not problems, "\n".join(problems)
    assert payloads.n >= 45  # every field above; fewer means one was dropped


@pytest.mark.django_db
def test_pages_have_no_inline_script_that_a_payload_could_hide_among():
    world = World()
    client = Client()
    for path in ("/", reverse("deliberation:topic", args=[world.topic.pk]), world.village.url):
        html = client.get(path).content.decode()
        for tag in re.findall(r"<script\b[^>]*>", html, re.I):
            assert "src=" in tag, (path, tag)


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_websocket_frames_carry_text_as_data():
    world = await sync_to_async(World)()
    topic = await sync_to_async(lambda: world.topic)()
    resident = world.people["resident"]
    payload = '"><script>alert(1)</script><img src=x onerror=alert(1)> javascript:alert(1)'
    headers = [(b"origin", b"http://testserver"), (b"host", b"testserver")]
    cookie = await sync_to_async(session_cookie)(resident)
    socket = WebsocketCommunicator(
        application,
        f"/ws/deliberation/topics/{topic.pk}/",
        headers=[*headers, (b"cookie", cookie.encode())],
    )
    connected, _ = await socket.connect()
    assert connected
    while (await socket.receive_json_from(timeout=3))["type"] != "ready":
        pass
    await socket.send_to(text_data=json.dumps({"type": "post", "body": payload}))
    frame = await socket.receive_json_from(timeout=3)
    await socket.disconnect()
    # The body is data, exactly as written; the page's script inserts it as text (below).
    assert frame["type"] == "message" and frame["body"] == payload
    assert "html" not in json.dumps(frame).lower()


UNSAFE_SINKS = re.compile(
    r"innerHTML|outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function\(|"
    r"setAttribute\(\s*[\"']on|\.src\s*=|setTimeout\(\s*[\"']"
)


def test_our_scripts_insert_server_data_only_as_text():
    scripts = sorted((ROOT / "static" / "js").rglob("*.js"))
    assert scripts
    unsafe = [
        f"{script.relative_to(ROOT)}:{number}: {line.strip()}"
        for script in scripts
        for number, line in enumerate(script.read_text(encoding="utf-8").splitlines(), 1)
        if UNSAFE_SINKS.search(line)
    ]
    assert not unsafe, "\n".join(unsafe)


def test_links_made_by_the_live_debate_are_http_only():
    source = (ROOT / "static" / "js" / "topic-live.js").read_text(encoding="utf-8")
    # Every href the script sets is either an in-page anchor or a match of an http(s) pattern.
    for assignment in re.findall(r"\.href\s*=\s*([^;]+);", source):
        assert assignment.startswith('"#') or assignment.strip() == "match[0]", assignment
    assert re.search(r"/https\?:\\/\\/", source)


def test_no_template_turns_autoescaping_off():
    folders = [ROOT / "templates"] + [
        ROOT / app / "templates"
        for app in (
            "core",
            "councils",
            "deliberation",
            "budgets",
            "disclosure",
            "home",
            "meetings",
            "notifications",
            "cases",
        )
    ]
    offenders = [
        str(template.relative_to(ROOT))
        for folder in folders
        for template in folder.rglob("*.html")
        if re.search(r"\|\s*safe\b|autoescape\s+off|\|\s*safeseq", template.read_text("utf-8"))
    ]
    assert not offenders
