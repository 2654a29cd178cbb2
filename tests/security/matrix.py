"""The HTTP permission matrix: one row per write endpoint of the URLconf.

A row says how to build the endpoint's URL and valid POST data from a World, how to see that
the write happened (`effect`: a value that changes when it did), and which roles may succeed.
The intent is docs/permissions.md's; tests/councils/test_permissions_table.py checks the rules,
test_permission_matrix.py checks that the pages ask them.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from django.urls import reverse

from assets.models import Entry, EntryVersion, RegisterImport, Threshold
from budgets.models import (
    BudgetCycle,
    Objection,
    Participation,
    PhaseChange,
    ProgressUpdate,
    Proposal,
    Rating,
    ResultOverride,
    SealedBallot,
)
from cases.models import (
    Case,
    CaseEvent,
    Department,
    DepartmentMember,
    LevelRule,
    Mediation,
    Visit,
    WeeklySummary,
)
from core.context_processors import LARGE_TEXT_COOKIE
from core.models import TaskRun, User
from councils.models import Household, HouseholdMember, Membership, MembershipStatus
from deliberation.models import (
    ConsultationDay,
    DayRegistration,
    Hall,
    Message,
    ModerationLog,
    Stance,
    Topic,
    TopicRating,
)
from disclosure.models import Attachment, ImportBatch, LineItem, Question, Record
from governance.models import EnteredFigure, Index, IndexVersion
from meetings.models import AgendaItem, Minutes, Motion, RosterEntry, Session, Vote
from tests.security.world import (
    COMMITTEE,
    COMMITTEE_AND_OFFICIAL,
    GRID_STAFF,
    GRID_STAFF_AND_OFFICIAL,
    NOT_OF_THE_VILLAGE,
    OFFICIAL,
    ROSTER,
    SIGNED_IN,
    SUPERVISOR,
    VILLAGERS,
    VILLAGERS_AND_OFFICIAL,
    World,
    pdf_upload,
    register_xlsx_upload,
    xlsx_upload,
)

ROLES_ALL = SIGNED_IN | {"anonymous"}


@dataclass(frozen=True)
class Row:
    url: Callable[[World], str]
    data: Callable[[World], dict]
    effect: Callable[[World], object]
    allowed: frozenset
    # Writes that leave no row behind (a cookie) say how to see them in the response instead.
    response_effect: Callable | None = field(default=None)


CASE_REPORT = {
    "category": "roads",
    "level": "priority",
    "title": "村口路灯不亮",
    "description": "3组村口的两根路灯坏了一个星期，晚上路过的老人看不清路。",
    "place": "3组村口",
    "public": "on",
}


REGISTER_POND = {
    "name": "村东鱼塘",
    "category": "pond",
    "location": "村东头",
    "area": "12.5",
    "boundaries": "东至水渠，南至村道",
}


def _count(model, **filters):
    return lambda w: model.objects.filter(**filters).count()


def _value(model, attr, pk_of):
    return lambda w: model.objects.filter(pk=pk_of(w).pk).values_list(attr, flat=True).get()


ROWS: dict[str, Row] = {
    # --- site-wide ----------------------------------------------------------------------------
    "toggle_large_text": Row(
        url=lambda w: reverse("toggle_large_text"),
        data=lambda w: {"next": "/"},
        effect=lambda w: None,
        allowed=ROLES_ALL,
        response_effect=lambda response: LARGE_TEXT_COOKIE in response.cookies,
    ),
    # --- councils -----------------------------------------------------------------------------
    "councils:join": Row(
        url=lambda w: reverse("councils:join", args=[w.village.pk]),
        data=lambda w: {"house_number": "3组12号", "message": "我住村口"},
        effect=lambda w: Membership.objects.filter(
            council=w.village, status=MembershipStatus.PENDING
        ).count(),
        # Residents already belong; an applicant already asked (docs: join_council).
        allowed=NOT_OF_THE_VILLAGE,
    ),
    "councils:households": Row(
        url=lambda w: reverse("councils:households", args=[w.village.pk]),
        data=lambda w: {"number": "3组12号", "representative": ""},
        effect=_count(Household),
        allowed=COMMITTEE,
    ),
    "councils:register": Row(
        url=lambda w: reverse("councils:register", args=[w.village.pk]),
        data=lambda w: {"number": "3组12号", "name": "李秀英", "birth_year": "1941"},
        effect=_count(HouseholdMember),
        allowed=COMMITTEE,
    ),
    "councils:remove_from_register": Row(
        url=lambda w: reverse("councils:remove_from_register", args=[w.register_entry.pk]),
        data=lambda w: {},
        effect=_count(HouseholdMember),
        allowed=COMMITTEE,
    ),
    "councils:verify": Row(
        url=lambda w: reverse("councils:verify", args=[w.candidate.pk]),
        data=lambda w: {"household_number": ""},
        effect=_value(Membership, "status", lambda w: w.candidate),
        allowed=COMMITTEE_AND_OFFICIAL,
    ),
    "councils:reject": Row(
        url=lambda w: reverse("councils:reject", args=[w.candidate.pk]),
        data=lambda w: {"reason": "查无此户"},
        effect=_value(Membership, "status", lambda w: w.candidate),
        allowed=COMMITTEE_AND_OFFICIAL,
    ),
    "councils:profile": Row(
        url=lambda w: reverse("councils:profile"),
        data=lambda w: {"display_name": "新名字", "real_name": "王新"},
        effect=_count(User, display_name="新名字"),
        allowed=SIGNED_IN,
    ),
    # --- running the council from its pages (issue 14, point 5) ---------------------------------
    "councils:roles": Row(
        url=lambda w: reverse("councils:roles", args=[w.village.pk]),
        data=lambda w: {"role": "representative", "person": w.spare_resident.pk},
        effect=_count(Membership, role="representative", status=MembershipStatus.VERIFIED),
        allowed=COMMITTEE_AND_OFFICIAL,
    ),
    "councils:remove_role": Row(
        url=lambda w: reverse("councils:remove_role", args=[w.spare_representative.pk]),
        data=lambda w: {"reason": "迁出本村"},
        effect=_value(Membership, "status", lambda w: w.spare_representative),
        allowed=COMMITTEE_AND_OFFICIAL,
    ),
    "deliberation:new_hall": Row(
        url=lambda w: reverse("deliberation:new_hall", args=[w.village.pk]),
        data=lambda w: {"place": "here", "title": "老年人议事厅", "is_public": "on"},
        effect=_count(Hall),
        allowed=COMMITTEE_AND_OFFICIAL,
    ),
    "budgets:change_phase": Row(
        url=lambda w: reverse("budgets:change_phase", args=[w.collecting_cycle.pk]),
        data=lambda w: {"phase": "collect", "end_now": "on", "reason": "提议已经够多，提前结束"},
        effect=_count(PhaseChange),
        allowed=COMMITTEE,
    ),
    # --- halls --------------------------------------------------------------------------------
    "deliberation:raise_topic": Row(
        url=lambda w: reverse("deliberation:raise_topic", args=[w.hall.pk]),
        data=lambda w: {
            "title": "路灯坏了",
            "description": "三组路灯坏了一个月",
            "category": "other",
        },
        effect=_count(Topic),
        allowed=VILLAGERS_AND_OFFICIAL,
    ),
    "deliberation:schedule_day": Row(
        url=lambda w: reverse("deliberation:schedule_day", args=[w.hall.pk]),
        data=lambda w: {
            "title": "协商日",
            "starts_at": "2030-12-01 09:00",
            "place": "村委会",
            "officials": "李明（镇党委副书记）",
        },
        effect=_count(ConsultationDay),
        allowed=COMMITTEE_AND_OFFICIAL,
    ),
    "deliberation:post_message": Row(
        url=lambda w: reverse("deliberation:post_message", args=[w.topic.pk]),
        data=lambda w: {"body": "我也觉得该修", "client_id": ""},
        effect=_count(Message),
        allowed=VILLAGERS_AND_OFFICIAL,
    ),
    "deliberation:set_stance": Row(
        url=lambda w: reverse("deliberation:set_stance", args=[w.topic.pk]),
        data=lambda w: {"value": "support"},
        effect=_count(Stance),
        allowed=VILLAGERS_AND_OFFICIAL,
    ),
    "deliberation:change_status": Row(
        url=lambda w: reverse("deliberation:change_status", args=[w.topic.pk]),
        data=lambda w: {"status-status": "taken_up", "status-reason": ""},
        effect=_value(Topic, "status", lambda w: w.topic),
        allowed=COMMITTEE_AND_OFFICIAL,
    ),
    "deliberation:answer": Row(
        url=lambda w: reverse("deliberation:answer", args=[w.topic.pk]),
        data=lambda w: {"answer-answer": "下周动工"},
        effect=_value(Topic, "official_answer", lambda w: w.topic),
        allowed=COMMITTEE_AND_OFFICIAL,
    ),
    "deliberation:merge": Row(
        url=lambda w: reverse("deliberation:merge", args=[w.other_topic.pk]),
        data=lambda w: {"merge-into": w.topic.pk, "merge-reason": "重复"},
        effect=_value(Topic, "merged_into", lambda w: w.other_topic),
        allowed=COMMITTEE_AND_OFFICIAL,
    ),
    "deliberation:rate_topic": Row(
        url=lambda w: reverse("deliberation:rate_topic", args=[w.answered_topic.pk]),
        data=lambda w: {"rating-score": "4", "rating-comment": "修得及时"},
        effect=_count(TopicRating),
        allowed=frozenset({"resident"}),  # the asker only
    ),
    "deliberation:moderate": Row(
        url=lambda w: reverse("deliberation:moderate", args=[w.message.pk]),
        data=lambda w: {"mod-action": "hide", "mod-reason": "人身攻击"},
        effect=_count(ModerationLog),
        allowed=COMMITTEE_AND_OFFICIAL,
    ),
    "deliberation:register_for_day": Row(
        url=lambda w: reverse("deliberation:register_for_day", args=[w.future_day.pk]),
        data=lambda w: {"note": "想说说路灯"},
        effect=_count(DayRegistration),
        allowed=VILLAGERS_AND_OFFICIAL,
    ),
    "deliberation:publish_outcome": Row(
        url=lambda w: reverse("deliberation:publish_outcome", args=[w.past_day.pk]),
        data=lambda w: {"outcome": "决定修路"},
        effect=_value(ConsultationDay, "outcome", lambda w: w.past_day),
        allowed=COMMITTEE_AND_OFFICIAL,
    ),
    # --- sessions -----------------------------------------------------------------------------
    "meetings:schedule_session": Row(
        url=lambda w: reverse("meetings:schedule_session", args=[w.village.pk]),
        data=lambda w: {
            "kind": "representatives",
            "roster_mode": "",
            "title": "村民代表会议",
            "starts_at": "2030-09-15 19:30",
            "place": "村委会",
            "is_public": "on",
        },
        effect=_count(Session),
        allowed=COMMITTEE,
    ),
    "meetings:add_agenda_item": Row(
        url=lambda w: reverse("meetings:add_agenda_item", args=[w.scheduled_session.pk]),
        data=lambda w: {"title": "修路的事", "description": ""},
        effect=_count(AgendaItem),
        allowed=COMMITTEE,
    ),
    "meetings:add_motion": Row(
        url=lambda w: reverse("meetings:add_motion", args=[w.open_session.pk]),
        data=lambda w: {"title": "同意修路", "text": "", "majority": "session"},
        effect=_count(Motion),
        allowed=COMMITTEE,
    ),
    "meetings:check_in": Row(
        url=lambda w: reverse("meetings:check_in", args=[w.check_in_session.pk]),
        data=lambda w: {"code": w.check_in_session.check_in_code},
        effect=_count(RosterEntry, attendance="present"),
        allowed=ROSTER,
    ),
    "meetings:record_attendance": Row(
        url=lambda w: reverse("meetings:record_attendance", args=[w.open_session.pk]),
        data=lambda w: {
            "entry": w.roster_entry(w.open_session, w.people["representative"]).pk,
            "present": "1",
        },
        effect=_count(RosterEntry, attendance="present"),
        allowed=COMMITTEE,
    ),
    "meetings:record_proxy": Row(
        url=lambda w: reverse("meetings:record_proxy", args=[w.proxy_session.pk]),
        data=lambda w: {
            "giver": w.roster_entry(w.proxy_session, w.people["representative"]).pk,
            "holder": w.roster_entry(w.proxy_session, w.clerk).pk,
        },
        effect=_count(RosterEntry, proxy_holder__isnull=False),
        allowed=COMMITTEE,
    ),
    "meetings:write_minutes": Row(
        url=lambda w: reverse("meetings:write_minutes", args=[w.closed_session.pk]),
        data=lambda w: {"narrative": "会议决定修路"},
        effect=_count(Minutes),
        allowed=COMMITTEE,
    ),
    "meetings:session_action": Row(
        url=lambda w: reverse("meetings:session_action", args=[w.open_session.pk, "close"]),
        data=lambda w: {},
        effect=_value(Session, "status", lambda w: w.open_session),
        allowed=COMMITTEE,
    ),
    "meetings:cast_vote": Row(
        url=lambda w: reverse("meetings:cast_vote", args=[w.voting_motion.pk]),
        data=lambda w: {"choice": "yes", "on_behalf_of": ""},
        effect=_count(Vote),
        allowed=ROSTER,
    ),
    "meetings:motion_action": Row(
        url=lambda w: reverse("meetings:motion_action", args=[w.draft_motion.pk, "open"]),
        data=lambda w: {},
        effect=_value(Motion, "status", lambda w: w.draft_motion),
        allowed=COMMITTEE,
    ),
    "meetings:edit_minutes": Row(
        url=lambda w: reverse("meetings:edit_minutes", args=[w.minutes_draft.pk]),
        data=lambda w: {"narrative": "改过的纪要"},
        effect=_value(Minutes, "narrative", lambda w: w.minutes_draft),
        allowed=COMMITTEE,
    ),
    "meetings:publish_minutes": Row(
        url=lambda w: reverse("meetings:publish_minutes", args=[w.minutes_draft.pk]),
        data=lambda w: {},
        effect=_value(Minutes, "status", lambda w: w.minutes_draft),
        allowed=COMMITTEE,
    ),
    "meetings:correct_minutes": Row(
        url=lambda w: reverse("meetings:correct_minutes", args=[w.minutes_published.pk]),
        data=lambda w: {"narrative": "更正后的纪要", "correction_reason": "人数记错了"},
        effect=_count(Minutes),
        allowed=COMMITTEE,
    ),
    # --- three openings -----------------------------------------------------------------------
    "disclosure:draft": Row(
        url=lambda w: reverse("disclosure:draft", args=[w.village.pk, "finance"]),
        data=lambda w: {
            "record_type": "statement",
            "period_kind": "month",
            "period_start": "2025-04-01",
            "title": "2025年4月收支",
            "body": "",
        },
        effect=_count(Record),
        allowed=COMMITTEE,
    ),
    "disclosure:import": Row(
        url=lambda w: reverse("disclosure:import", args=[w.village.pk]),
        data=lambda w: {
            "record_type": "statement",
            "period_kind": "month",
            "period_start": "2025-03-01",
            "title": "2025年3月收支",
            "file": xlsx_upload(),
        },
        effect=_count(ImportBatch),
        allowed=COMMITTEE,
    ),
    "disclosure:edit": Row(
        url=lambda w: reverse("disclosure:edit", args=[w.draft_record.pk]),
        data=lambda w: {
            "record_type": "statement",
            "period_kind": "month",
            "period_start": "2025-03-01",
            "title": "改过的标题",
            "body": "",
        },
        effect=_value(Record, "title", lambda w: w.draft_record),
        allowed=COMMITTEE,
    ),
    "disclosure:import_save": Row(
        url=lambda w: reverse("disclosure:import_save", args=[w.import_batch.pk]),
        data=lambda w: {},
        effect=_count(Record),
        allowed=COMMITTEE,
    ),
    "disclosure:import_discard": Row(
        url=lambda w: reverse("disclosure:import_discard", args=[w.import_batch.pk]),
        data=lambda w: {},
        effect=_count(ImportBatch),
        allowed=COMMITTEE,
    ),
    "disclosure:import_read": Row(
        url=lambda w: reverse("disclosure:import_read", args=[w.import_batch.pk]),
        data=lambda w: {},
        effect=_value(ImportBatch, "updated_at", lambda w: w.import_batch),
        allowed=COMMITTEE,
    ),
    "disclosure:export_retry": Row(
        url=lambda w: reverse("disclosure:export_retry", args=[w.failed_export.pk]),
        data=lambda w: {},
        effect=lambda w: TaskRun.objects.get(pk=w.failed_export.run_id).status,
        allowed=SIGNED_IN,  # exports are public; signing in only keeps robots from retrying
    ),
    "disclosure:add_line": Row(
        url=lambda w: reverse("disclosure:add_line", args=[w.draft_record.pk]),
        data=lambda w: {"date": "2025-03-05", "description": "办公用品", "expense": "35.50"},
        effect=_count(LineItem),
        allowed=COMMITTEE,
    ),
    "disclosure:remove_line": Row(
        url=lambda w: reverse("disclosure:remove_line", args=[w.draft_record.pk, w.line.pk]),
        data=lambda w: {},
        effect=_count(LineItem),
        allowed=COMMITTEE,
    ),
    "disclosure:attach": Row(
        url=lambda w: reverse("disclosure:attach", args=[w.draft_record.pk]),
        data=lambda w: {"file": pdf_upload()},
        effect=_count(Attachment),
        allowed=COMMITTEE,
    ),
    "disclosure:submit": Row(
        url=lambda w: reverse("disclosure:submit", args=[w.draft_record.pk]),
        data=lambda w: {},
        effect=_value(Record, "status", lambda w: w.draft_record),
        allowed=COMMITTEE,
    ),
    "disclosure:sign_off": Row(
        url=lambda w: reverse("disclosure:sign_off", args=[w.in_review_record.pk]),
        data=lambda w: {},
        effect=_value(Record, "status", lambda w: w.in_review_record),
        allowed=SUPERVISOR,
    ),
    "disclosure:object": Row(
        url=lambda w: reverse("disclosure:object", args=[w.in_review_record.pk]),
        data=lambda w: {"reason": "缺少凭证"},
        effect=_value(Record, "status", lambda w: w.in_review_record),
        allowed=SUPERVISOR,
    ),
    "disclosure:publish": Row(
        url=lambda w: reverse("disclosure:publish", args=[w.signed_off_record.pk]),
        data=lambda w: {},
        effect=_value(Record, "status", lambda w: w.signed_off_record),
        allowed=COMMITTEE,
    ),
    "disclosure:correct": Row(
        url=lambda w: reverse("disclosure:correct", args=[w.published_record.pk]),
        data=lambda w: {"reason": "金额录错了"},
        effect=_count(Record),
        allowed=COMMITTEE,
    ),
    "disclosure:ask": Row(
        url=lambda w: reverse("disclosure:ask", args=[w.published_record.pk]),
        data=lambda w: {"text": "这笔钱用在哪里了？"},
        effect=_count(Question),
        allowed=VILLAGERS,
    ),
    "disclosure:answer": Row(
        url=lambda w: reverse("disclosure:answer", args=[w.question.pk]),
        data=lambda w: {"answer": "用于修路"},
        effect=_value(Question, "answer", lambda w: w.question),
        allowed=COMMITTEE,
    ),
    # --- participatory budgets ----------------------------------------------------------------
    "budgets:new_cycle": Row(
        url=lambda w: reverse("budgets:new_cycle", args=[w.village.pk]),
        data=lambda w: {
            "title": "2027年微实事",
            "description": "",
            "total_amount": "100000",
            "ballot_type": "approval",
            "max_choices": "3",
            "min_choices": "1",
            "points": "10",
            "eligibility": "person",
            "rule": BudgetCycle._meta.get_field("rule").default,
            "satisfaction": BudgetCycle._meta.get_field("satisfaction").default,
            "complete_greedy": "on",
            "objection_days": "7",
            "starts_on": "2030-03-01",
            "collect_days": "14",
            "review_days": "7",
            "deliberate_days": "7",
            "vote_days": "7",
        },
        effect=_count(BudgetCycle),
        allowed=COMMITTEE_AND_OFFICIAL,
    ),
    "budgets:propose": Row(
        url=lambda w: reverse("budgets:propose", args=[w.collecting_cycle.pk]),
        data=lambda w: {
            "title": "装路灯",
            "description": "三组到五组之间没有路灯",
            "estimated_cost": "20000",
            "category": "other",
            "location": "",
            "beneficiaries": "",
        },
        effect=_count(Proposal),
        allowed=VILLAGERS,
    ),
    "budgets:vote": Row(
        url=lambda w: reverse("budgets:vote", args=[w.voting_cycle.pk]),
        data=lambda w: {f"p{w.road.pk}": "1"},
        effect=_count(SealedBallot),
        allowed=VILLAGERS,
    ),
    "budgets:paper": Row(
        url=lambda w: reverse("budgets:paper", args=[w.voting_cycle.pk]),
        data=lambda w: {"phone": w.paper_voter.phone, f"p{w.road.pk}": "1", "ballot": "1"},
        effect=_count(Participation, channel="paper"),
        allowed=COMMITTEE,
    ),
    # A POST so that the code stays out of URLs and logs; it writes nothing, for anyone.
    "budgets:check_receipt": Row(
        url=lambda w: reverse("budgets:check_receipt", args=[w.voting_cycle.pk]),
        data=lambda w: {"code": "ABCD-EFGH-JKLM-NPQR"},
        effect=lambda w: None,
        allowed=ROLES_ALL,
        response_effect=lambda response: response.status_code == 200,
    ),
    "budgets:publish": Row(
        url=lambda w: reverse("budgets:publish", args=[w.closed_cycle.pk]),
        data=lambda w: {},
        effect=_value(BudgetCycle, "results_published_at", lambda w: w.closed_cycle),
        allowed=COMMITTEE,
    ),
    "budgets:file_objection": Row(
        url=lambda w: reverse("budgets:file_objection", args=[w.closed_cycle.pk]),
        data=lambda w: {"reason": "路灯的票数统计有误，请复核。"},
        effect=_count(Objection),
        allowed=VILLAGERS,
    ),
    "budgets:answer_objection": Row(
        url=lambda w: reverse("budgets:answer_objection", args=[w.objection.pk]),
        data=lambda w: {"answer": "已复核，票数无误，见选票清单。"},
        effect=_value(Objection, "answer", lambda w: w.objection),
        allowed=COMMITTEE,
    ),
    "budgets:promote": Row(
        url=lambda w: reverse("budgets:promote", args=[w.topic.pk]),
        data=lambda w: {"cycle": w.collecting_cycle.pk, "estimated_cost": "20000"},
        effect=_count(Proposal),
        allowed=COMMITTEE,
    ),
    "budgets:review": Row(
        url=lambda w: reverse("budgets:review", args=[w.submitted_proposal.pk]),
        data=lambda w: {"feasible": "yes", "checked_cost": "28000", "reason": "可行，造价核过"},
        effect=_value(Proposal, "status", lambda w: w.submitted_proposal),
        allowed=COMMITTEE,
    ),
    "budgets:override": Row(
        url=lambda w: reverse("budgets:override", args=[w.funded.pk]) if w.closed_cycle else None,
        data=lambda w: {"funded": "no", "reason": "上级已经拨款修这条路了"},
        effect=_count(ResultOverride),
        allowed=COMMITTEE,
    ),
    "budgets:progress": Row(
        url=lambda w: (
            reverse("budgets:progress", args=[w.funded.pk]) if w.published_cycle else None
        ),
        data=lambda w: {"status": "in_progress", "note": "已经开工", "spent_so_far": "10"},
        effect=_count(ProgressUpdate),
        allowed=COMMITTEE,
    ),
    "budgets:rate": Row(
        url=lambda w: reverse("budgets:rate", args=[w.done_proposal.pk]),
        data=lambda w: {"score": "5", "comment": "修得好"},
        effect=_count(Rating),
        allowed=VILLAGERS,
    ),
    # --- cases (docs/permissions.md, "Cases"): a case of the grid is handled by its grid worker,
    # the village's committee and the officials above; a dispute of the village by its
    # committee and the officials (not by the grid worker of one of its grids) ------------------
    "cases:report": Row(
        url=lambda w: reverse("cases:report", args=[w.grid.pk, "grid_report"]),
        data=lambda w: dict(CASE_REPORT),
        effect=_count(Case),
        allowed=GRID_STAFF_AND_OFFICIAL,
    ),
    "cases:log_visit": Row(
        url=lambda w: reverse("cases:log_visit", args=[w.grid.pk]),
        data=lambda w: {"visited_on": "2025-03-05", "households": "12", "notes": "走访3组12户。"},
        effect=_count(Visit),
        allowed=GRID_STAFF_AND_OFFICIAL,
    ),
    "cases:report_finding": Row(
        url=lambda w: reverse("cases:report_finding", args=[w.visit.pk]),
        data=lambda w: {**CASE_REPORT, "category": "welfare", "title": "独居老人想申请低保"},
        effect=_count(Case, visit__isnull=False),
        allowed=GRID_STAFF_AND_OFFICIAL,
    ),
    "cases:escalate_topic": Row(
        url=lambda w: reverse("cases:escalate_topic", args=[w.topic.pk]),
        data=lambda w: {"category": "roads", "level": "difficult"},
        effect=_count(Case),
        allowed=COMMITTEE_AND_OFFICIAL,
    ),
    "cases:case_accept": Row(
        url=lambda w: reverse("cases:case_accept", args=[w.reported_case.pk]),
        data=lambda w: {},
        effect=_value(Case, "status", lambda w: w.reported_case),
        allowed=GRID_STAFF_AND_OFFICIAL,
    ),
    "cases:case_start": Row(
        url=lambda w: reverse("cases:case_start", args=[w.accepted_case.pk]),
        data=lambda w: {"text": "明天上午请电工去看。"},
        effect=_value(Case, "status", lambda w: w.accepted_case),
        allowed=GRID_STAFF_AND_OFFICIAL,
    ),
    "cases:case_note": Row(
        url=lambda w: reverse("cases:case_note", args=[w.accepted_case.pk]),
        data=lambda w: {"text": "电工说要换灯头。"},
        effect=_count(CaseEvent),
        allowed=GRID_STAFF_AND_OFFICIAL,
    ),
    "cases:case_resolve": Row(
        url=lambda w: reverse("cases:case_resolve", args=[w.accepted_case.pk]),
        data=lambda w: {"outcome": "水沟已经疏通。"},
        effect=_value(Case, "status", lambda w: w.accepted_case),
        allowed=GRID_STAFF_AND_OFFICIAL,
    ),
    "cases:case_whistle": Row(
        url=lambda w: reverse("cases:case_whistle", args=[w.reported_case.pk]),
        data=lambda w: {"department": str(w.department.pk), "reason": "请派出所协调供电所。"},
        effect=_value(Case, "department", lambda w: w.reported_case),
        allowed=OFFICIAL,
    ),
    "cases:case_confirm": Row(
        url=lambda w: reverse("cases:case_confirm", args=[w.resolved_demand.pk]),
        data=lambda w: {"satisfaction": "4", "comment": "清运得及时。"},
        effect=_value(Case, "status", lambda w: w.resolved_demand),
        allowed=frozenset({"resident"}),  # its reporter only
    ),
    "cases:case_mediator": Row(
        url=lambda w: reverse("cases:case_mediator", args=[w.dispute.pk]),
        data=lambda w: {"mediator": str(w.clerk.pk)},
        effect=_count(Mediation),
        allowed=COMMITTEE_AND_OFFICIAL,
    ),
    "cases:case_mediation": Row(
        url=lambda w: reverse("cases:case_mediation", args=[w.mediated_dispute.pk]),
        data=lambda w: {"text": "双方都到了村委会。", "held_at": ""},
        effect=_count(CaseEvent),
        allowed=COMMITTEE_AND_OFFICIAL,
    ),
    "cases:case_agreement": Row(
        url=lambda w: reverse("cases:case_agreement", args=[w.mediated_dispute.pk]),
        data=lambda w: {"agreement": "以老槐树往东两米为界。", "follow_up_on": "2030-01-15"},
        effect=_value(Mediation, "agreed_at", lambda w: w.mediated_dispute.mediation),
        allowed=COMMITTEE_AND_OFFICIAL,
    ),
    "cases:case_follow_up": Row(
        url=lambda w: reverse("cases:case_follow_up", args=[w.agreed_dispute.pk]),
        data=lambda w: {"text": "回访两家，没有再吵。"},
        effect=_count(CaseEvent),
        allowed=COMMITTEE_AND_OFFICIAL,
    ),
    "cases:departments": Row(
        url=lambda w: reverse("cases:departments", args=[w.township.pk]),
        data=lambda w: {"name": "白沙镇司法所", "kind": "justice"},
        effect=_count(Department),
        allowed=OFFICIAL,
    ),
    "cases:department_members": Row(
        url=lambda w: reverse("cases:department_members", args=[w.department.pk]),
        data=lambda w: {
            f"d{w.department.pk}-phone": w.spare_resident.phone,
            f"d{w.department.pk}-action": "add",
        },
        effect=_count(DepartmentMember),
        allowed=OFFICIAL,
    ),
    "cases:remove_department_member": Row(
        url=lambda w: reverse(
            "cases:remove_department_member", args=[w.department.pk, w.department_member.pk]
        ),
        data=lambda w: {},
        effect=_count(DepartmentMember),
        allowed=OFFICIAL,
    ),
    "cases:deactivate_department": Row(
        url=lambda w: reverse("cases:deactivate_department", args=[w.department.pk]),
        data=lambda w: {},
        effect=_value(Department, "active", lambda w: w.department),
        allowed=OFFICIAL,
    ),
    "cases:rules": Row(
        url=lambda w: reverse("cases:rules", args=[w.township.pk]),
        data=lambda w: {
            "level": "priority",
            "priority-tier": "village",
            "priority-inform_township": "on",
            "priority-accept_hours": "12",
            "priority-resolve_days": "5",
        },
        effect=_count(LevelRule),
        allowed=OFFICIAL,
    ),
    "cases:summary_sign": Row(
        url=lambda w: reverse("cases:summary_sign", args=[w.summary.pk]),
        data=lambda w: {"note": "本周报了三盏路灯，两盏已修好。"},
        effect=_value(WeeklySummary, "signed_at", lambda w: w.summary),
        allowed=GRID_STAFF,
    ),
    # --- the index (docs/permissions.md, "Governance"): defined and published by officials of
    # the township that owns it; figures entered by officials above the village -----------------
    "governance:indexes": Row(
        url=lambda w: reverse("governance:indexes", args=[w.township.pk]),
        data=lambda w: {"template": "ruian", "name": "白沙镇强基善治指数"},
        effect=_count(Index),
        allowed=OFFICIAL,
    ),
    "governance:start_version": Row(
        url=lambda w: reverse("governance:start_version", args=[w.index_without_draft.pk]),
        data=lambda w: {},
        effect=_count(IndexVersion),
        allowed=OFFICIAL,
    ),
    "governance:edit_version": Row(
        url=lambda w: reverse("governance:edit_version", args=[w.gov["draft"].pk]),
        data=lambda w: {
            "action": "version",
            "target": str(w.gov["draft"].pk),
            "star_1": "60",
            "star_2": "70",
            "note": "调整星级线",
        },
        effect=_value(IndexVersion, "note", lambda w: w.gov["draft"]),
        allowed=OFFICIAL,
    ),
    "governance:publish_version": Row(
        url=lambda w: reverse("governance:publish_version", args=[w.gov["draft"].pk]),
        data=lambda w: {},
        effect=_value(IndexVersion, "status", lambda w: w.gov["draft"]),
        allowed=OFFICIAL,
    ),
    "governance:enter_figures": Row(
        url=lambda w: reverse("governance:enter_figures", args=[w.gov["index"].pk]),
        data=lambda w: {
            "code": "party-stars",
            "period": "2025-01",
            f"v{w.village.pk}-value": "4",
            f"v{w.village.pk}-evidence_url": "https://example.org/stars.pdf",
            f"v{w.village.pk}-note": "镇党委评定",
        },
        effect=_count(EnteredFigure),
        allowed=OFFICIAL,
    ),
    "governance:edit_figure": Row(
        url=lambda w: reverse("governance:edit_figure", args=[w.gov["figure"].pk]),
        data=lambda w: {"value": "3", "evidence_url": "https://example.org/stars.pdf", "note": ""},
        effect=_value(EnteredFigure, "value", lambda w: w.gov["figure"]),
        allowed=OFFICIAL,
    ),
    "governance:publish_figure": Row(
        url=lambda w: reverse("governance:publish_figure", args=[w.gov["figure"].pk]),
        data=lambda w: {},
        effect=_value(EnteredFigure, "status", lambda w: w.gov["figure"]),
        allowed=OFFICIAL,
    ),
    # --- registers of assets, resources and contracts (三资) -------------------------------
    "assets:entry_new": Row(
        url=lambda w: reverse("assets:entry_new", args=[w.village.pk]),
        data=lambda w: {**REGISTER_POND, "register": "resource"},
        effect=_count(Entry),
        allowed=COMMITTEE,
    ),
    "assets:version_edit": Row(
        url=lambda w: reverse("assets:version_edit", args=[w.register_draft.pk]),
        data=lambda w: {**REGISTER_POND, "register": "resource", "name": "改过的名字"},
        effect=_value(EntryVersion, "name", lambda w: w.register_draft),
        allowed=COMMITTEE,
    ),
    "assets:version_new": Row(
        url=lambda w: reverse("assets:version_new", args=[w.register_published.entry_id]),
        data=lambda w: {**REGISTER_POND, "register": "resource", "change_reason": "重新丈量"},
        effect=_count(EntryVersion),
        allowed=COMMITTEE,
    ),
    "assets:version_submit": Row(
        url=lambda w: reverse("assets:version_submit", args=[w.register_draft.pk]),
        data=lambda w: {},
        effect=_value(Record, "status", lambda w: w.register_draft.record),
        allowed=COMMITTEE,
    ),
    "assets:version_attach": Row(
        url=lambda w: reverse("assets:version_attach", args=[w.register_draft.pk]),
        data=lambda w: {"file": pdf_upload()},
        effect=_count(Attachment),
        allowed=COMMITTEE,
    ),
    "assets:thresholds": Row(
        url=lambda w: reverse("assets:thresholds", args=[w.township.pk]),
        data=lambda w: {
            "lease_amount": "50000",
            "lease_years": "5",
            "sale_amount": "10000",
            "write_off_amount": "2000",
            "grace_days": "15",
        },
        effect=_count(Threshold),
        allowed=OFFICIAL,
    ),
    "assets:import": Row(
        url=lambda w: reverse("assets:import", args=[w.village.pk]),
        data=lambda w: {"register": "asset", "file": register_xlsx_upload()},
        effect=_count(RegisterImport),
        allowed=COMMITTEE,
    ),
    "assets:import_save": Row(
        url=lambda w: reverse("assets:import_save", args=[w.register_import.pk]),
        data=lambda w: {},
        effect=_count(Entry),
        allowed=COMMITTEE,
    ),
    "assets:import_discard": Row(
        url=lambda w: reverse("assets:import_discard", args=[w.register_import.pk]),
        data=lambda w: {},
        effect=_count(RegisterImport),
        allowed=COMMITTEE,
    ),
}
