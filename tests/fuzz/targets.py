"""Every URL of the project, classified: a form to fuzz (with who may post there, who may not,
and a valid submission to mutate) or a page that only reads. test_every_url_is_classified
fails when a new URL is in neither table, so a new form cannot escape the fuzzing."""

import datetime
from collections.abc import Callable
from dataclasses import dataclass, field

from django.urls import reverse
from django.utils import timezone

JUNK_SLUGS = ["x", "open-now", "delete", "0"]


@dataclass(frozen=True)
class Form:
    """A POST endpoint. `path(world, choose)` gives the URL; `choose(list)` lets Hypothesis pick
    among path variants. `data(world)` is a valid submission that fuzzing mutates."""

    path: Callable
    allowed: str  # an actor of tests.fuzz.world ("anonymous" for sign-in pages)
    denied: str
    data: Callable = lambda w: {}
    files: tuple[str, ...] = ()
    # A redirect with no message at all is accepted only here: the result itself is visible
    # (a new agenda item, the page in large text) and there is nothing to refuse.
    silent_redirect: bool = False
    # A 200 answer to a POST is the next step of a flow, not a form shown back without a word.
    next_step_200: bool = False
    notes: str = field(default="", compare=False)


def url(name, *args):
    return lambda w, choose: reverse(name, args=[a(w) if callable(a) else a for a in args])


def pk(obj_name):
    return lambda w: w[obj_name].pk


def soon(days=3, fmt="%Y-%m-%d %H:%M"):
    return (timezone.localtime() + datetime.timedelta(days=days)).strftime(fmt)


def _either(*names):
    return lambda w, choose: w[choose(list(names))].pk


def _slug_url(name, obj_names, actions):
    def build(w, choose):
        obj = w[choose(list(obj_names))]
        return reverse(name, args=[obj.pk, choose(list(actions) + JUNK_SLUGS)])

    return build


def _proposal_url(name):
    return lambda w, choose: reverse(
        name, args=[_either("funded", "submitted", "ballot_a")(w, choose)]
    )


def _record_url(name, *records):
    return lambda w, choose: reverse(name, args=[_either(*records)(w, choose)])


def _ballot(w):
    return {f"p{w['ballot_a'].pk}": "1", f"p{w['ballot_b'].pk}": "1", "replace": ""}


def _case_step(step, *cases):
    name = f"cases:case_{step}"
    return lambda w, choose: reverse(name, args=[w[choose(list(cases))].pk])


def _gov(w):
    from tests.governance.index_objects import fuzz_objects

    return fuzz_objects(w)


def _council_url(name, *councils, extra=()):
    def build(w, choose):
        args = [w[choose(list(councils))].pk]
        if extra:
            args.append(choose(list(extra)))
        return reverse(name, args=args)

    return build


# A case report: every field of the three reporting forms (each reads the ones it has).
CASE_REPORT = {
    "category": "roads",
    "level": "priority",
    "title": "村口路灯不亮",
    "description": "3组村口的两根路灯坏了一个星期，晚上路过的老人看不清路。",
    "place": "3组村口",
    "latitude": "21.271234",
    "longitude": "110.358765",
    "public": "on",
    "party_name_1": "王小英",
    "party_side_1": "applicant",
    "party_name_2": "李大山",
    "party_side_2": "respondent",
}
PHOTOS = ("photo_1", "photo_2", "photo_3")

RECORD_FIELDS = {
    "record_type": "statement",
    "period_kind": "month",
    "period_start": "2025-08-01",
    "period_end": "",
    "title": "2025年8月财务收支明细",
    "body": "本月收支如下。",
}

FORMS: dict[str, Form] = {
    # --- core and Django ---
    "toggle_large_text": Form(
        url("toggle_large_text"),
        "anonymous",
        "resident",
        lambda w: {"next": "/"},
        silent_redirect=True,
    ),
    "set_language": Form(
        url("set_language"),
        "anonymous",
        "resident",
        lambda w: {"language": "zh-hans", "next": "/"},
        silent_redirect=True,
    ),
    # --- accounts (allauth with core.adapters) ---
    # A signed-in visitor is sent on without a word; a code request goes on to the code page.
    "account_login": Form(
        url("account_login"),
        "anonymous",
        "resident",
        lambda w: {"login": "13800138000"},
        silent_redirect=True,
    ),
    "account_signup": Form(
        url("account_signup"),
        "anonymous",
        "resident",
        lambda w: {"phone": "13912345678"},
        silent_redirect=True,
    ),
    "account_request_login_code": Form(
        url("account_request_login_code"),
        "anonymous",
        "resident",
        lambda w: {"phone": w.people["resident"].phone},
        silent_redirect=True,
    ),
    "account_confirm_login_code": Form(
        url("account_confirm_login_code"),
        "anonymous",
        "resident",
        lambda w: {"code": "123456"},
        silent_redirect=True,
    ),
    "account_verify_phone": Form(
        url("account_verify_phone"),
        "resident",
        "anonymous",
        lambda w: {"code": "123456"},
        silent_redirect=True,
    ),
    "account_change_phone": Form(
        url("account_change_phone"),
        "resident",
        "anonymous",
        lambda w: {"phone": "13712345678"},
        silent_redirect=True,
    ),
    "account_change_password": Form(
        url("account_change_password"),
        "resident",
        "anonymous",
        lambda w: {"oldpassword": "x", "password1": "村口的路2025!", "password2": "村口的路2025!"},
        silent_redirect=True,
    ),
    "account_set_password": Form(
        url("account_set_password"),
        "resident",
        "anonymous",
        lambda w: {"password1": "村口的路2025!", "password2": "村口的路2025!"},
        silent_redirect=True,
    ),
    "account_reset_password": Form(
        url("account_reset_password"),
        "anonymous",
        "resident",
        lambda w: {"email": "a@b.cn"},
        silent_redirect=True,
    ),
    "account_reauthenticate": Form(
        url("account_reauthenticate"),
        "resident",
        "anonymous",
        lambda w: {"password": "x"},
        silent_redirect=True,
    ),
    "account_email": Form(
        url("account_email"),
        "resident",
        "anonymous",
        lambda w: {"email": "a@b.cn"},
        silent_redirect=True,
    ),
    "account_logout": Form(url("account_logout"), "resident", "anonymous", silent_redirect=True),
    # --- councils ---
    "councils:join": Form(
        lambda w, choose: reverse("councils:join", args=[w[choose(["village", "township"])].pk]),
        "outsider",
        "resident",
        lambda w: {"house_number": "3组12号", "message": "我是新搬来的"},
    ),
    "councils:verify": Form(
        url("councils:verify", pk("pending")),
        "committee",
        "resident",
        lambda w: {"household_number": "3组12号"},
    ),
    "councils:reject": Form(
        url("councils:reject", pk("pending")),
        "committee",
        "resident",
        lambda w: {"reason": "门牌号对不上"},
    ),
    "councils:profile": Form(
        url("councils:profile"),
        "resident",
        "outsider",
        lambda w: {"display_name": "老王", "real_name": "王大明"},
    ),
    "councils:households": Form(
        url("councils:households", pk("village")),
        "committee",
        "resident",
        lambda w: {"number": "3组12号", "representative": str(w.people["representative"].pk)},
    ),
    "councils:register": Form(
        url("councils:register", pk("village")),
        "committee",
        "resident",
        lambda w: {"number": "3组12号", "name": "李秀英", "birth_year": "1941", "is_head": "on"},
    ),
    "councils:remove_from_register": Form(
        url("councils:remove_from_register", pk("register_entry")),
        "committee",
        "resident",
        silent_redirect=False,
    ),
    # running the council from its pages (issue 14, point 5)
    "councils:roles": Form(
        url("councils:roles", pk("village")),
        "committee",
        "resident",
        lambda w: {
            "role": "representative",
            "person": str(w.people["resident"].pk),
            "phone": "",
            "grid": "",
        },
    ),
    "councils:remove_role": Form(
        url("councils:remove_role", pk("rep_membership")),
        "committee",
        "resident",
        lambda w: {"reason": "迁出本村"},
    ),
    "deliberation:new_hall": Form(
        url("deliberation:new_hall", pk("village")),
        "committee",
        "resident",
        lambda w: {
            "place": "new:worthies",
            "new_council_title": "新乡贤参事会",
            "title": "乡贤议事厅",
            "description": "",
            "is_public": "on",
        },
    ),
    "budgets:change_phase": Form(
        url("budgets:change_phase", pk("collect_cycle")),
        "committee",
        "resident",
        lambda w: {"phase": "collect", "end_now": "", "new_end": soon(3), "reason": "农忙延长"},
    ),
    "budgets:check_receipt": Form(
        url("budgets:check_receipt", pk("closed_cycle")),
        "anonymous",
        "anonymous",
        lambda w: {"code": "ABCD-EFGH-JKLM-NPQR"},
        next_step_200=True,
        notes="a check writes nothing: the answer is the page itself",
    ),
    # --- halls ---
    "deliberation:raise_topic": Form(
        url("deliberation:raise_topic", pk("hall")),
        "resident",
        "outsider",
        lambda w: {
            "title": "路灯坏了",
            "description": "3组路口的路灯坏了一个月。",
            "category": "roads",
            "location": "3组路口",
        },
        files=("photo_1", "photo_2"),
    ),
    "deliberation:schedule_day": Form(
        url("deliberation:schedule_day", pk("hall")),
        "committee",
        "resident",
        lambda w: {
            "title": "民情恳谈日",
            "starts_at": soon(5),
            "ends_at": soon(6),
            "place": "村委会",
            "officials": "李明（镇党委副书记）",
        },
    ),
    "deliberation:post_message": Form(
        url("deliberation:post_message", pk("topic")),
        "resident",
        "outsider",
        lambda w: {"body": "同意，早该修了", "reply_to": "1", "client_id": "c-1"},
        silent_redirect=True,
    ),
    "deliberation:set_stance": Form(
        url("deliberation:set_stance", pk("topic")),
        "resident",
        "outsider",
        lambda w: {"value": "support"},
    ),
    "deliberation:change_status": Form(
        url("deliberation:change_status", pk("topic")),
        "committee",
        "resident",
        lambda w: {"status-status": "taken_up", "status-reason": "村委会已受理"},
    ),
    "deliberation:answer": Form(
        url("deliberation:answer", pk("topic")),
        "committee",
        "resident",
        lambda w: {"answer-answer": "下月动工。"},
    ),
    "deliberation:merge": Form(
        url("deliberation:merge", pk("topic")),
        "committee",
        "resident",
        lambda w: {"merge-into": str(w["other_topic"].pk), "merge-reason": "重复"},
    ),
    "deliberation:rate_topic": Form(
        url("deliberation:rate_topic", pk("answered_topic")),
        "resident",  # the asker
        "committee",
        lambda w: {"rating-score": "4", "rating-comment": "修得及时"},
    ),
    "deliberation:moderate": Form(
        url("deliberation:moderate", pk("message")),
        "committee",
        "resident",
        lambda w: {"mod-action": "hide", "mod-reason": "人身攻击"},
    ),
    "deliberation:register_for_day": Form(
        url("deliberation:register_for_day", pk("day")),
        "resident",
        "outsider",
        lambda w: {"note": "想说说路灯的事"},
    ),
    "deliberation:publish_outcome": Form(
        url("deliberation:publish_outcome", pk("day")),
        "committee",
        "resident",
        lambda w: {"outcome": "路灯下周修好。", "topics": [str(w["topic"].pk)]},
    ),
    # --- sessions ---
    "meetings:schedule_session": Form(
        url("meetings:schedule_session", pk("village")),
        "committee",
        "resident",
        lambda w: {
            "kind": "representatives",
            "roster_mode": "",
            "title": "临时村民代表会议",
            "starts_at": soon(2, "%Y-%m-%dT%H:%M"),
            "place": "村委会",
            "is_public": "on",
        },
    ),
    "meetings:add_agenda_item": Form(
        url("meetings:add_agenda_item", pk("session")),
        "committee",
        "representative",
        lambda w: {"title": "路灯维修", "description": "", "topic": str(w["topic"].pk)},
        silent_redirect=True,
    ),
    "meetings:add_motion": Form(
        url("meetings:add_motion", pk("session")),
        "committee",
        "representative",
        lambda w: {"title": "同意维修路灯", "text": "", "majority": "session", "agenda_item": ""},
        silent_redirect=True,
    ),
    "meetings:check_in": Form(
        url("meetings:check_in", pk("session")),
        "representative",
        "outsider",
        lambda w: {"code": w["session"].check_in_code or "123456"},
    ),
    "meetings:record_attendance": Form(
        url("meetings:record_attendance", pk("session")),
        "committee",
        "representative",
        lambda w: {"entry": str(w["session"].roster.first().pk), "present": "1"},
        silent_redirect=True,
    ),
    "meetings:record_proxy": Form(
        url("meetings:record_proxy", pk("session")),
        "committee",
        "representative",
        lambda w: {
            "giver": str(w["session"].roster.last().pk),
            "holder": str(w["session"].roster.first().pk),
        },
    ),
    "meetings:write_minutes": Form(
        lambda w, choose: reverse(
            "meetings:write_minutes", args=[w[choose(["closed_session", "session"])].pk]
        ),
        "committee",
        "representative",
        lambda w: {"narrative": "会议讨论了桥梁修建。"},
    ),
    "meetings:session_action": Form(
        _slug_url(
            "meetings:session_action",
            ["session", "scheduled_session", "closed_session"],
            ["open", "close", "check-in-open", "check-in-rotate", "check-in-close"],
        ),
        "committee",
        "representative",
        lambda w: {"next": "screen"},
    ),
    "meetings:cast_vote": Form(
        lambda w, choose: reverse(
            "meetings:cast_vote", args=[w[choose(["motion", "passed_motion"])].pk]
        ),
        "representative",
        "outsider",
        lambda w: {"choice": "yes", "on_behalf_of": ""},
    ),
    "meetings:motion_action": Form(
        _slug_url(
            "meetings:motion_action",
            ["motion", "passed_motion"],
            ["open", "close", "disclose", "implementation"],
        ),
        "committee",
        "representative",
        lambda w: {"report": "桥已修好。"},
        silent_redirect=True,
    ),
    "meetings:edit_minutes": Form(
        url("meetings:edit_minutes", pk("minutes")),
        "committee",
        "representative",
        lambda w: {"narrative": "会议讨论了桥梁修建，一致通过。"},
    ),
    "meetings:publish_minutes": Form(
        lambda w, choose: reverse(
            "meetings:publish_minutes", args=[w[choose(["minutes", "published_minutes"])].pk]
        ),
        "committee",
        "representative",
    ),
    "meetings:correct_minutes": Form(
        url("meetings:correct_minutes", pk("published_minutes")),
        "committee",
        "representative",
        lambda w: {"narrative": "更正后的纪要", "correction_reason": "出席人数写错了"},
    ),
    # --- disclosure ---
    "disclosure:draft": Form(
        lambda w, choose: reverse(
            "disclosure:draft",
            args=[w["village"].pk, choose(["finance", "affairs", "party", "nonsense"])],
        ),
        "committee",
        "resident",
        lambda w: dict(RECORD_FIELDS),
    ),
    "disclosure:edit": Form(
        _record_url("disclosure:edit", "draft", "published"),
        "committee",
        "resident",
        lambda w: dict(RECORD_FIELDS),
    ),
    "disclosure:import": Form(
        url("disclosure:import", pk("village")),
        "committee",
        "resident",
        lambda w: {k: v for k, v in RECORD_FIELDS.items() if k != "body"},
        files=("file",),
    ),
    "disclosure:import_save": Form(
        url("disclosure:import_save", pk("import")), "committee", "resident"
    ),
    "disclosure:import_discard": Form(
        url("disclosure:import_discard", pk("import")), "committee", "resident"
    ),
    "disclosure:import_read": Form(
        url("disclosure:import_read", pk("import")),
        "committee",
        "resident",
        silent_redirect=True,
    ),
    "disclosure:export_retry": Form(
        url("disclosure:export_retry", pk("export")), "resident", "anonymous"
    ),
    "disclosure:add_line": Form(
        _record_url("disclosure:add_line", "draft", "published"),
        "committee",
        "resident",
        lambda w: {
            "date": "2025-03-15",
            "voucher_number": "记-009",
            "account": "管理费用",
            "description": "购买办公用品",
            "income": "",
            "expense": "286.50",
            "counterparty": "文具店",
            "project": "",
        },
    ),
    "disclosure:remove_line": Form(
        lambda w, choose: reverse("disclosure:remove_line", args=[w["draft"].pk, w["line"].pk]),
        "committee",
        "resident",
    ),
    "disclosure:attach": Form(
        _record_url("disclosure:attach", "draft", "published"),
        "committee",
        "resident",
        files=("file",),
    ),
    "disclosure:submit": Form(url("disclosure:submit", pk("draft")), "committee", "resident"),
    "disclosure:sign_off": Form(
        url("disclosure:sign_off", pk("in_review")), "supervisor", "committee"
    ),
    "disclosure:object": Form(
        url("disclosure:object", pk("in_review")),
        "supervisor",
        "resident",
        lambda w: {"reason": "发票金额对不上"},
    ),
    "disclosure:publish": Form(
        url("disclosure:publish", pk("signed_off")), "committee", "resident"
    ),
    "disclosure:correct": Form(
        url("disclosure:correct", pk("published")),
        "committee",
        "resident",
        lambda w: {"reason": "金额录错了"},
    ),
    "disclosure:ask": Form(
        _record_url("disclosure:ask", "published", "draft"),
        "resident",
        "outsider",
        lambda w: {"text": "这笔钱花在哪里了？"},
    ),
    "disclosure:answer": Form(
        url("disclosure:answer", pk("question")),
        "committee",
        "resident",
        lambda w: {"answer": "买了打印纸和墨盒。"},
    ),
    # --- budgets ---
    "budgets:new_cycle": Form(
        url("budgets:new_cycle", pk("village")),
        "committee",
        "resident",
        lambda w: {
            "title": "2027年微实事",
            "description": "",
            "total_amount": "100000",
            "ballot_type": "approval",
            "max_choices": "3",
            "min_choices": "1",
            "points": "10",
            "eligibility": "person",
            "rule": "mes-add1",
            "satisfaction": "cost",
            "complete_greedy": "on",
            "objection_days": "7",
            "starts_on": soon(1, "%Y-%m-%d"),
            "collect_days": "14",
            "review_days": "7",
            "deliberate_days": "7",
            "vote_days": "7",
        },
    ),
    "budgets:propose": Form(
        lambda w, choose: reverse(
            "budgets:propose", args=[w[choose(["collect_cycle", "vote_cycle"])].pk]
        ),
        "resident",
        "outsider",
        lambda w: {
            "title": "修水渠",
            "description": "灌溉用的水渠漏水。",
            "estimated_cost": "5000",
            "category": "water",
            "location": "2组",
            "beneficiaries": "2组农户",
        },
        files=("photo_1", "photo_2", "photo_3"),
    ),
    "budgets:vote": Form(
        lambda w, choose: reverse(
            "budgets:vote", args=[w[choose(["vote_cycle", "collect_cycle"])].pk]
        ),
        "resident",
        "outsider",
        _ballot,
        silent_redirect=True,
    ),
    "budgets:paper": Form(
        url("budgets:paper", pk("vote_cycle")),
        "committee",
        "resident",
        lambda w: {"phone": w.people["resident"].phone, "ballot": "1", **_ballot(w)},
        next_step_200=True,
        notes="phone (or a house number) alone answers 200 with the next step",
        silent_redirect=True,
    ),
    "budgets:publish": Form(
        lambda w, choose: reverse(
            "budgets:publish", args=[w[choose(["closed_cycle", "vote_cycle"])].pk]
        ),
        "committee",
        "resident",
    ),
    "budgets:file_objection": Form(
        lambda w, choose: reverse(
            "budgets:file_objection", args=[w[choose(["closed_cycle", "vote_cycle"])].pk]
        ),
        "resident",
        "outsider",
        lambda w: {"reason": "修路的造价比估算高了一倍，请说明。"},
    ),
    "budgets:answer_objection": Form(
        url("budgets:answer_objection", pk("objection")),
        "committee",
        "resident",
        lambda w: {"answer": "已复核，票数无误，见选票清单。"},
    ),
    "budgets:promote": Form(
        url("budgets:promote", pk("topic")),
        "committee",
        "resident",
        lambda w: {"cycle": str(w["collect_cycle"].pk), "estimated_cost": "8000"},
    ),
    "budgets:review": Form(
        _proposal_url("budgets:review"),
        "committee",
        "resident",
        lambda w: {"feasible": "yes", "checked_cost": "4800", "reason": "可行"},
    ),
    "budgets:override": Form(
        _proposal_url("budgets:override"),
        "committee",
        "resident",
        lambda w: {"funded": "no", "reason": "村民代表会议决定暂缓"},
    ),
    "budgets:progress": Form(
        _proposal_url("budgets:progress"),
        "committee",
        "resident",
        lambda w: {"status": "in_progress", "note": "已开工", "spent_so_far": "30"},
        files=("photo",),
    ),
    "budgets:rate": Form(
        _proposal_url("budgets:rate"),
        "resident",
        "outsider",
        lambda w: {"score": "4", "comment": "修得不错"},
    ),
    # --- notifications ---
    "notifications:mark_read": Form(
        url("notifications:mark_read"),
        "resident",
        "anonymous",
        lambda w: {"next": "/notifications/"},
    ),
    "notifications:follow": Form(
        url("notifications:follow"),
        "resident",
        "anonymous",
        lambda w: {"target": f"deliberation.topic:{w['topic'].pk}", "next": "/"},
    ),
    "notifications:settings": Form(
        url("notifications:settings"),
        "resident",
        "anonymous",
        lambda w: {
            "quiet_hours": "on",
            "quiet_start": "21:00",
            "quiet_end": "08:00",
            "digest_at": "19:00",
            "topic_answered__sms": "on",
        },
    ),
    # --- cases ---
    "cases:report": Form(
        _council_url(
            "cases:report", "grid", "village", extra=["grid_report", "demand", "dispute", "visit"]
        ),
        "committee",
        "outsider",
        lambda w: dict(CASE_REPORT),
        files=PHOTOS,
        notes="the committee reports grid events and, as villagers, raises demands and disputes",
    ),
    "cases:log_visit": Form(
        _council_url("cases:log_visit", "grid", "village", "township"),
        "grid_worker",
        "resident",
        lambda w: {
            "visited_on": timezone.localdate().isoformat(),
            "households": "12",
            "night": "on",
            "notes": "走访3组12户，两户说路灯不亮，一户想申请低保。",
        },
    ),
    "cases:report_finding": Form(
        url("cases:report_finding", pk("visit")),
        "grid_worker",
        "resident",
        lambda w: {**CASE_REPORT, "category": "welfare", "title": "独居老人想申请低保"},
        files=PHOTOS,
    ),
    "cases:escalate_topic": Form(
        _record_url("cases:escalate_topic", "topic", "other_topic"),
        "committee",
        "resident",
        lambda w: {"category": "roads", "level": "difficult"},
    ),
    "cases:case_accept": Form(
        _case_step("accept", "reported_case", "accepted_case", "whistled_case"),
        "committee",
        "resident",
    ),
    "cases:case_start": Form(
        _case_step("start", "accepted_case", "reported_case"),
        "committee",
        "resident",
        lambda w: {"text": "明天上午请村里的电工去看。"},
    ),
    "cases:case_note": Form(
        _case_step("note", "accepted_case", "reported_case", "resolved_case"),
        "committee",
        "resident",
        lambda w: {"text": "电工说要换灯头，已经去镇上买了。"},
    ),
    "cases:case_resolve": Form(
        _case_step("resolve", "accepted_case", "reported_case"),
        "committee",
        "resident",
        lambda w: {"outcome": "水沟已经疏通，清出了两车淤泥。"},
        files=PHOTOS,
    ),
    "cases:case_whistle": Form(
        _case_step("whistle", "reported_case", "whistled_case"),
        "official",
        "committee",
        lambda w: {
            "department": str(w["department"].pk),
            "reason": "路灯归镇里管，请派出所协调供电所。",
        },
    ),
    "cases:case_confirm": Form(
        _case_step("confirm", "resolved_case", "reported_case"),
        "resident",  # the reporter of the resolved demand
        "committee",
        lambda w: {"satisfaction": "4", "comment": "清运得及时，谢谢。"},
    ),
    "cases:case_mediator": Form(
        _case_step("mediator", "dispute", "agreed_dispute", "reported_case"),
        "committee",
        "resident",
        lambda w: {"mediator": str(w.people["committee"].pk)},
    ),
    "cases:case_mediation": Form(
        _case_step("mediation", "dispute", "agreed_dispute", "reported_case"),
        "committee",  # the mediator
        "resident",
        lambda w: {
            "text": "双方都到了村委会，王家说边界在老槐树，李家说在水沟。",
            "held_at": (timezone.localtime() - datetime.timedelta(hours=2)).strftime(
                "%Y-%m-%dT%H:%M"
            ),
        },
    ),
    "cases:case_agreement": Form(
        _case_step("agreement", "dispute", "agreed_dispute"),
        "committee",
        "resident",
        lambda w: {
            "agreement": "以老槐树往东两米为界，李家拆除多砌的半米围墙。",
            "follow_up_on": soon(30, "%Y-%m-%d"),
        },
    ),
    "cases:case_follow_up": Form(
        _case_step("follow_up", "agreed_dispute", "dispute"),
        "committee",
        "resident",
        lambda w: {"text": "回访两家，排水沟已经移好，没有再吵。"},
    ),
    "cases:departments": Form(
        _council_url("cases:departments", "township", "village"),
        "official",
        "committee",
        lambda w: {"name": "白沙镇司法所", "kind": "justice"},
    ),
    "cases:department_members": Form(
        url("cases:department_members", pk("department")),
        "official",
        "department_member",
        lambda w: {
            f"d{w['department'].pk}-phone": w.people["resident"].phone,
            f"d{w['department'].pk}-action": "add",
        },
    ),
    "cases:remove_department_member": Form(
        lambda w, choose: reverse(
            "cases:remove_department_member",
            args=[w["department"].pk, w.people[choose(["department_member", "resident"])].pk],
        ),
        "official",
        "department_member",
    ),
    "cases:deactivate_department": Form(
        _record_url("cases:deactivate_department", "idle_department", "department"),
        "official",
        "department_member",
    ),
    "cases:rules": Form(
        _council_url("cases:rules", "township", "village"),
        "official",
        "committee",
        lambda w: {
            "level": "priority",
            "priority-tier": "village",
            "priority-inform_township": "on",
            "priority-accept_hours": "12",
            "priority-resolve_days": "5",
        },
    ),
    "cases:summary_sign": Form(
        url("cases:summary_sign", pk("summary")),
        "grid_worker",
        "resident",
        lambda w: {"note": "本周报了三盏路灯，两盏已修好；3组水沟要在雨季前清。"},
    ),
    # --- the index (governance.views.index; objects made on first use) ---
    "governance:indexes": Form(
        _council_url("governance:indexes", "township", "village"),
        "official",
        "committee",
        lambda w: {"template": "ruian", "name": "白沙镇强基善治指数"},
    ),
    "governance:start_version": Form(
        lambda w, choose: reverse("governance:start_version", args=[_gov(w)["gov_index"].pk]),
        "official",
        "committee",
    ),
    "governance:edit_version": Form(
        lambda w, choose: reverse("governance:edit_version", args=[_gov(w)["gov_draft"].pk]),
        "official",
        "committee",
        lambda w: {
            "action": "version",
            "target": str(_gov(w)["gov_draft"].pk),
            "star_1": "60",
            "star_2": "70",
            "note": "调整星级线",
        },
    ),
    "governance:publish_version": Form(
        lambda w, choose: reverse("governance:publish_version", args=[_gov(w)["gov_draft"].pk]),
        "official",
        "committee",
    ),
    "governance:enter_figures": Form(
        lambda w, choose: reverse("governance:enter_figures", args=[_gov(w)["gov_index"].pk]),
        "official",
        "committee",
        lambda w: {
            "code": "party-stars",
            "period": "2025-01",
            f"v{w['village'].pk}-value": "4",
            f"v{w['village'].pk}-evidence_url": "https://example.org/stars.pdf",
            f"v{w['village'].pk}-note": "镇党委评定",
        },
    ),
    "governance:edit_figure": Form(
        lambda w, choose: reverse(
            "governance:edit_figure",
            args=[_gov(w)[choose(["gov_figure", "gov_published_figure"])].pk],
        ),
        "official",
        "committee",
        lambda w: {"value": "4", "evidence_url": "https://example.org/stars.pdf", "note": ""},
    ),
    "governance:publish_figure": Form(
        lambda w, choose: reverse("governance:publish_figure", args=[_gov(w)["gov_figure"].pk]),
        "official",
        "committee",
    ),
    # registers of assets, resources and contracts (assets/views.py)
    "assets:entry_new": Form(
        url("assets:entry_new", pk("village")),
        "committee",
        "resident",
        lambda w: {
            "register": "asset",
            "code": "",
            "name": "村文化礼堂",
            "category": "building",
            "location": "村中心",
            "book_value": "320000",
        },
    ),
    "assets:version_edit": Form(
        url("assets:version_edit", pk("register_draft")),
        "committee",
        "supervisor",
        lambda w: {
            "name": "村东鱼塘",
            "category": "pond",
            "location": "村东头",
            "area": "12.5",
            "boundaries": "东至水渠，南至村道",
        },
    ),
    "assets:version_new": Form(
        url("assets:version_new", lambda w: w["register_published"].entry_id),
        "committee",
        "resident",
        lambda w: {
            "name": "村委办公楼",
            "category": "building",
            "location": "村中心",
            "book_value": "800000",
            "change_reason": "按年度折旧调整账面价值",
        },
    ),
    "assets:version_submit": Form(
        url("assets:version_submit", pk("register_draft")), "committee", "supervisor"
    ),
    "assets:version_attach": Form(
        url("assets:version_attach", pk("register_draft")),
        "committee",
        "supervisor",
        files=("file",),
    ),
    "assets:thresholds": Form(
        url("assets:thresholds", pk("township")),
        "official",
        "committee",
        lambda w: {
            "lease_amount": "50000",
            "lease_years": "5",
            "sale_amount": "20000",
            "write_off_amount": "5000",
            "grace_days": "15",
        },
    ),
    # registers of assets, resources and contracts: Excel import (assets/import_views.py)
    "assets:import": Form(
        url("assets:import", pk("village")),
        "committee",
        "resident",
        lambda w: {"register": "asset"},
        files=("file",),
        next_step_200=True,  # a file with problems answers with its preview, nothing kept
    ),
    "assets:import_save": Form(
        url("assets:import_save", pk("register_import")), "committee", "resident"
    ),
    "assets:import_discard": Form(
        url("assets:import_discard", pk("register_import")), "committee", "resident"
    ),
}

# Pages that only read (GET): no form to fuzz.
READ_ONLY = {
    "healthz",
    # /halls/... addresses of sessions before issue 15: each answers 301 to /meetings/...
    "meetings_moved:schedule_session",
    "meetings_moved:session",
    "meetings_moved:session_screen",
    "meetings_moved:add_agenda_item",
    "meetings_moved:add_motion",
    "meetings_moved:check_in",
    "meetings_moved:record_attendance",
    "meetings_moved:record_proxy",
    "meetings_moved:write_minutes",
    "meetings_moved:session_action",
    "meetings_moved:cast_vote",
    "meetings_moved:motion_action",
    "meetings_moved:minutes",
    "meetings_moved:edit_minutes",
    "meetings_moved:publish_minutes",
    "meetings_moved:correct_minutes",
    "javascript-catalog",
    "account_inactive",
    "account_switched_off",  # e-mail and password pages: 404 (tests/core/test_trust_signin.py)
    "account_email_verification_sent",
    "account_confirm_email",
    "account_reset_password_done",
    "account_reset_password_from_key",
    "account_reset_password_from_key_done",
    "councils:search",
    "councils:members",
    "councils:actions",
    "deliberation:hall",
    "deliberation:topic",
    "deliberation:day",
    "meetings:session",
    "meetings:session_screen",
    "meetings:minutes",
    "disclosure:dashboard",
    "disclosure:chain",
    "disclosure:chain_head",
    "disclosure:bundle",
    "disclosure:charts",
    "disclosure:period_export",
    "disclosure:finance_period",
    "disclosure:ledger_export",
    "disclosure:ledger",
    "disclosure:record",
    "disclosure:record_export",
    "disclosure:notice",
    "disclosure:import_template",
    "assets:import_template",
    "assets:import_preview",
    "assets:export",  # the published registers as .xlsx, for anyone
    "assets:registers",
    "assets:entry",
    "assets:version",
    "disclosure:import_batch",
    "disclosure:import_status",
    "disclosure:import_file",  # GET only: files behind their record's permission (docs/files.md)
    "disclosure:export_job",
    "disclosure:export_status",
    "disclosure:export_file",
    "disclosure:attachment",
    "deliberation:topic_photo",
    "budgets:proposal_photo",
    "budgets:progress_photo",
    "budgets:cycle",
    "budgets:receipt_shown",
    "budgets:roll",
    "budgets:results",
    "budgets:ballots",
    "budgets:ballots_pb",
    "budgets:proposal",
    "notifications:inbox",
    "notifications:open",  # opening one marks it read: the person's own, nothing else
    "cases:case",
    "cases:photo",  # GET only: photos behind the case's permission
    "cases:mine",
    "cases:visit",
    "cases:board",
    "cases:board_counts",
    "cases:department_desk",
    "cases:public",
    "cases:figures",
    "cases:summaries",
    "cases:summary",
    "cases:export_cases",
    "cases:export_figures",
    # The open read API (docs/api.md): GET only, public data only (tests/api/).
    "api:api-root",
    "api:schema",
    "api:docs",
    "api:council-list",
    "api:council-detail",
    "api:record-list",
    "api:record-detail",
    "api:cycle-list",
    "api:cycle-detail",
    "api:cycle-results",
    "api:cycle-pabulib",
    "api:topic-list",
    "api:topic-detail",
    "api:metric-list",
    "api:index-score-list",
    "api:case-figure-list",
    "api:not_found",
    "governance:evidence",  # what a figure counts, public (docs/governance.md)
    # the dashboard (a GET form), its export, the big screen and its fragment (docs/dashboards.md)
    "governance:dashboard",
    "governance:dashboard_export",
    "governance:screen",
    "governance:screen_figures",
    # the index: its pages, a version, entered figures, drafts, evidence files behind the
    # figure's permission (docs/governance-index.md)
    "governance:index",
    "governance:version",
    "governance:index_figures",
    "governance:drafts",
    "governance:figure",
    "governance:figure_evidence",
}

# Third-party admin and serving views, tested by their projects; not our forms.
THIRD_PARTY_PREFIXES = ("admin/", "django-admin/", "documents/", "_util/", "^((?:")


# Refusals the fuzzing found that still have no message, left to the owners of these views: name
# -> why (marked xfail, not run, so CI stays green and fast). Delete an entry once it is fixed.
# Empty since the hidden-form refusals (deliberation, disclosure) and the allauth 429 pages were
# given their messages.
KNOWN_GAPS: dict[str, str] = {}
