"""One village with a person in each role and, built only when asked for, one object in each
state that a write endpoint acts on. Everything is made with the real services.

The roles are those of the issue (and of docs/permissions.md's columns): `anonymous`,
`other_resident` (verified resident of another village), `applicant` (signed in, asked to join,
not verified), `resident`, `representative`, `committee`, `supervisor` (all verified residents of
the village), `grid_worker` (of the village's grid, not a resident), `official` (of the township
above); and, to be refused wherever the village's own people are let in, `other_committee` (the
committee of another village of the same township) and `other_official` (an official of another
township). Objects are set up by `clerk` (and, for the township's part, `clerk_official`), who are
none of the people in the columns, as in the permission table.
"""

import datetime
from decimal import Decimal
from functools import cached_property

from django.utils import timezone

from budgets import services as budget_services
from budgets.models import ProgressStatus
from cases import services as case_services
from cases import summaries
from cases.models import Category, DepartmentKind, Source, WeeklySummary, Whistle
from councils.models import Household, HouseholdMember, MembershipStatus, Role
from deliberation import services as hall_services
from deliberation.models import ConsultationDay, Hall
from disclosure import excel
from disclosure import services as disclosure_services
from disclosure.models import Kind, PeriodKind, RecordType
from meetings import services as sessions
from meetings.models import SessionKind
from tests.budgets.factories import add_proposal, make_cycle, set_phase
from tests.councils.factories import UserFactory, make_tree, member

ROLES = (
    "anonymous",
    "other_resident",
    "applicant",
    "resident",
    "representative",
    "committee",
    "supervisor",
    "grid_worker",
    "official",
    "other_committee",
    "other_official",
)
# Shorthands for the matrix rows.
NOBODY: frozenset = frozenset()
SIGNED_IN = frozenset(ROLES) - {"anonymous"}
VILLAGERS = frozenset({"resident", "representative", "committee", "supervisor"})
VILLAGERS_AND_OFFICIAL = VILLAGERS | {"official"}
COMMITTEE = frozenset({"committee"})
COMMITTEE_AND_OFFICIAL = frozenset({"committee", "official"})
SUPERVISOR = frozenset({"supervisor"})
ROSTER = frozenset({"representative", "committee"})  # a representatives' meeting's roster
# Signed in and belonging to no council of the village (those who may ask to join it).
NOT_OF_THE_VILLAGE = frozenset(
    {"other_resident", "grid_worker", "official", "other_committee", "other_official"}
)
# Cases: who handles a case of the grid (docs/permissions.md, "Cases").
GRID_STAFF = frozenset({"committee", "grid_worker"})
GRID_STAFF_AND_OFFICIAL = GRID_STAFF | {"official"}
OFFICIAL = frozenset({"official"})
MARCH = datetime.date(2025, 3, 1)


class World:
    def __init__(self):
        self.tree = make_tree()
        self.village = self.tree["village"]
        village = self.village

        def villager(role=None):
            user = member(village)
            if role:
                member(village, role, user=user)
            return user

        self.clerk = villager(Role.COMMITTEE)
        self.clerk_supervisor = villager(Role.SUPERVISOR)
        self.people = {
            "anonymous": None,
            "other_resident": member(self.tree["other_village"]),
            "applicant": member(village, status=MembershipStatus.PENDING),
            "resident": villager(),
            "representative": villager(Role.REPRESENTATIVE),
            "committee": villager(Role.COMMITTEE),
            "supervisor": villager(Role.SUPERVISOR),
            "grid_worker": member(self.tree["grid"], Role.GRID_WORKER),
            "official": member(self.tree["township"], Role.OFFICIAL),
            "other_committee": member(
                self.tree["other_village"],
                Role.COMMITTEE,
                user=member(self.tree["other_village"]),
            ),
            "other_official": member(self.tree["other_township"], Role.OFFICIAL),
        }

    # --- councils -----------------------------------------------------------------------

    @cached_property
    def candidate(self):
        """Someone else's pending request to join the village."""
        user = UserFactory()
        return member(self.village, user=user, status=MembershipStatus.PENDING).memberships.get()

    @cached_property
    def register_entry(self):
        """A villager without an account, on the household register."""
        household = Household.objects.create(council=self.village, number="9组1号")
        return HouseholdMember.objects.create(household=household, name="王秀兰")

    @cached_property
    def spare_resident(self):
        """A resident of the village with no other role, to be made a representative."""
        return member(self.village)

    @cached_property
    def spare_representative(self):
        """A representative's membership that the committee may end (no meeting scheduled)."""
        user = member(self.village)
        member(self.village, Role.REPRESENTATIVE, user=user)
        return user.memberships.get(role=Role.REPRESENTATIVE)

    # --- halls ----------------------------------------------------------------------------

    @cached_property
    def hall(self):
        return Hall.objects.create(council=self.village, title="议事厅")

    @cached_property
    def private_hall(self):
        return Hall.objects.create(council=self.village, title="青年议事厅", is_public=False)

    def _topic(self, hall, title="村口的路下雨积水"):
        return hall_services.raise_topic(
            author=self.clerk, hall=hall, title=title, description="老人孩子走路不方便。"
        )

    @cached_property
    def topic(self):
        return self._topic(self.hall)

    @cached_property
    def other_topic(self):
        return self._topic(self.hall, "村口路面积水（重复）")

    @cached_property
    def private_topic(self):
        return self._topic(self.private_hall)

    @cached_property
    def closed_topic(self):
        topic = self._topic(self.hall, "已经办完的事")
        hall_services.change_topic_status(
            actor=self.clerk, topic=topic, status="closed", reason="已办结"
        )
        topic.refresh_from_db()
        return topic

    @cached_property
    def answered_topic(self):
        """Raised by the resident and answered by the committee: only its asker may rate it."""
        topic = hall_services.raise_topic(
            author=self.people["resident"],
            hall=self.hall,
            title="路灯不亮",
            description="晚上看不见路。",
        )
        hall_services.answer_topic(actor=self.clerk, topic=topic, answer="已报修，本周修好。")
        topic.refresh_from_db()
        return topic

    @cached_property
    def message(self):
        return hall_services.post_message(
            author=self.clerk, topic=self.topic, body="我同意"
        ).message

    def _day(self, starts_at):
        return ConsultationDay.objects.create(
            hall=self.hall,
            title="协商日",
            starts_at=starts_at,
            place="村委会",
            officials="李明（镇党委副书记）",
            created_by=self.clerk,
        )

    @cached_property
    def future_day(self):
        return self._day(timezone.now() + datetime.timedelta(days=3))

    @cached_property
    def past_day(self):
        return self._day(timezone.now() - datetime.timedelta(hours=2))

    # --- sessions ---------------------------------------------------------------------------

    def _session(self, kind=SessionKind.REPRESENTATIVES, *, is_public=True):
        return sessions.schedule_session(
            actor=self.clerk,
            council=self.village,
            kind=kind,
            title="第三季度村民代表会议",
            starts_at=timezone.now() + datetime.timedelta(hours=1),
            place="村委会二楼",
            is_public=is_public,
        )

    @cached_property
    def scheduled_session(self):
        return self._session()

    @cached_property
    def open_session(self):
        return sessions.open_session(early=True, actor=self.clerk, session=self._session())

    @cached_property
    def private_session(self):
        return sessions.open_session(
            early=True, actor=self.clerk, session=self._session(is_public=False)
        )

    @cached_property
    def check_in_session(self):
        session = sessions.open_session(early=True, actor=self.clerk, session=self._session())
        sessions.open_check_in(actor=self.clerk, session=session)
        session.refresh_from_db()
        return session

    @cached_property
    def proxy_session(self):
        """An open session at which the clerk (who may hold a proxy) is present."""
        session = sessions.open_session(early=True, actor=self.clerk, session=self._session())
        entry = self.roster_entry(session, self.clerk)
        sessions.record_attendance(actor=self.clerk, session=session, entry=entry, present=True)
        return session

    def roster_entry(self, session, user):
        return session.roster.get(person=user)

    @cached_property
    def draft_motion(self):
        return sessions.add_motion(actor=self.clerk, session=self.open_session, title="修路")

    @cached_property
    def voting_motion(self):
        """An open vote of an open session in which everyone on the roster is present."""
        session = sessions.open_session(early=True, actor=self.clerk, session=self._session())
        for entry in session.roster.all():
            sessions.record_attendance(actor=self.clerk, session=session, entry=entry, present=True)
        motion = sessions.add_motion(actor=self.clerk, session=session, title="修村口的路")
        return sessions.open_vote(actor=self.clerk, motion=motion)

    @cached_property
    def closed_session(self):
        session = sessions.open_session(early=True, actor=self.clerk, session=self._session())
        return sessions.close_session(actor=self.clerk, session=session)

    @cached_property
    def minutes_draft(self):
        session = sessions.open_session(early=True, actor=self.clerk, session=self._session())
        sessions.close_session(actor=self.clerk, session=session)
        return sessions.draft_minutes(actor=self.clerk, session=session, narrative="会议纪要")

    @cached_property
    def minutes_published(self):
        session = sessions.open_session(early=True, actor=self.clerk, session=self._session())
        sessions.close_session(actor=self.clerk, session=session)
        draft = sessions.draft_minutes(actor=self.clerk, session=session, narrative="会议纪要")
        return sessions.publish_minutes(actor=self.clerk, minutes=draft)

    # --- three openings ---------------------------------------------------------------------

    def _record(self, title="2025年3月财务收支明细"):
        record = disclosure_services.draft_record(
            council=self.village,
            by=self.clerk,
            kind=Kind.FINANCE,
            record_type=RecordType.STATEMENT,
            period_kind=PeriodKind.MONTH,
            period_start=MARCH,
            title=title,
        )
        disclosure_services.add_line_item(
            record=record, by=self.clerk, date=MARCH, description="租金收入", income=Decimal("100")
        )
        return record

    @cached_property
    def draft_record(self):
        return self._record()

    @cached_property
    def line(self):
        return self.draft_record.lines.get()

    @cached_property
    def in_review_record(self):
        return disclosure_services.submit_for_review(record=self._record(), by=self.clerk)

    @cached_property
    def signed_off_record(self):
        record = disclosure_services.submit_for_review(record=self._record(), by=self.clerk)
        return disclosure_services.sign_off_record(record=record, by=self.clerk_supervisor)

    @cached_property
    def published_record(self):
        record = disclosure_services.submit_for_review(record=self._record(), by=self.clerk)
        disclosure_services.sign_off_record(record=record, by=self.clerk_supervisor)
        return disclosure_services.publish_record(record=record, by=self.clerk)

    @cached_property
    def question(self):
        return disclosure_services.ask_question(
            record=self.published_record, by=self.clerk_supervisor, text="这笔租金是哪里来的？"
        )

    @cached_property
    def import_batch(self):
        return disclosure_services.start_import(
            council=self.village,
            by=self.clerk,
            record_type=RecordType.STATEMENT,
            period_kind=PeriodKind.MONTH,
            period_start=MARCH,
            title="2025年3月收支明细",
            upload=xlsx_upload(),
        )

    @cached_property
    def failed_export(self):
        """A big export whose every attempt failed (disclosure.exports, core.tasks)."""
        from core.models import TaskRun, TaskRunStatus
        from disclosure.models import ExportJob, ExportWhat

        run = TaskRun.objects.create(
            work="disclosure.exports.build_export",
            status=TaskRunStatus.FAILED,
            attempts=3,
            max_attempts=3,
            error="OSError: disk full",
        )
        return ExportJob.objects.create(
            council=self.village,
            what=ExportWhat.LEDGER,
            kind=Kind.FINANCE,
            fmt="csv",
            chain_position=0,
            run=run,
            filename="yishi-finance.csv",
        )

    # --- registers of assets, resources and contracts (三资) -------------------------------

    def _register_entry(self, name):
        from assets import services as assets_services

        return assets_services.draft_entry(
            council=self.village,
            by=self.clerk,
            register="resource",
            fields={"name": name, "category": "pond", "area": "12.5", "location": "村东头"},
        )

    @cached_property
    def register_draft(self):
        """A draft version of a resource entry, by the clerk."""
        return self._register_entry("村东鱼塘")

    @cached_property
    def register_published(self):
        """A published version (submitted by the clerk, signed off by the clerk's supervisor)."""
        from assets import services as assets_services

        version = assets_services.submit_version(
            version=self._register_entry("村西鱼塘"), by=self.clerk
        )
        disclosure_services.sign_off_record(record=version.record, by=self.clerk_supervisor)
        disclosure_services.publish_record(record=version.record, by=self.clerk)
        version.refresh_from_db()
        return version

    @cached_property
    def register_import(self):
        """An upload of the assets register, previewed without problems, not saved yet."""
        from assets import excel as assets_excel

        return assets_excel.preview_import(
            council=self.village, by=self.clerk, register="asset", upload=register_xlsx_upload()
        ).batch

    # --- participatory budgets ----------------------------------------------------------------

    @cached_property
    def collecting_cycle(self):
        return make_cycle(self.village, phase="collect")

    @cached_property
    def submitted_proposal(self):
        return add_proposal(self.collecting_cycle, "修路", "30000", feasible=False)

    @cached_property
    def voting_cycle(self):
        cycle = make_cycle(self.village, phase="vote")
        self.road = add_proposal(cycle, "修路", "60000")
        add_proposal(cycle, "路灯", "30000")
        return cycle

    @cached_property
    def paper_voter(self):
        return member(self.village)

    @cached_property
    def closed_cycle(self):
        cycle = make_cycle(self.village, phase="vote", total_amount=Decimal("100"))
        self.funded = add_proposal(cycle, "修路", "60")
        add_proposal(cycle, "路灯", "60")
        for _ in range(2):
            budget_services.cast_ballot(
                voter=member(self.village), cycle=cycle, choices={self.funded.pk: 1}
            )
        set_phase(cycle, "results")
        return cycle

    @cached_property
    def objection(self):
        """An objection filed during 结果公示, not yet answered: on a cycle of its own, so that
        it never holds up the implementation of closed_cycle (whichever is built first)."""
        cycle = make_cycle(self.village, phase="vote", title="有异议的预算")
        road = add_proposal(cycle, "修路", "60")
        budget_services.cast_ballot(voter=member(self.village), cycle=cycle, choices={road.pk: 1})
        set_phase(cycle, "results")
        return budget_services.file_objection(
            author=member(self.village), cycle=cycle, reason="路灯的票数统计有误。"
        )

    @cached_property
    def published_cycle(self):
        cycle = self.closed_cycle
        return budget_services.publish_results(by=self.clerk, cycle=cycle)

    @cached_property
    def done_proposal(self):
        self.published_cycle  # noqa: B018 - builds self.funded
        budget_services.post_progress(
            by=self.clerk,
            proposal=self.funded,
            status=ProgressStatus.DONE,
            note="路修好了",
            spent_so_far=Decimal("60"),
        )
        return self.funded

    # --- cases --------------------------------------------------------------------------------

    @cached_property
    def clerk_official(self):
        """An official of the township who is none of the people in the columns."""
        return member(self.tree["township"], Role.OFFICIAL)

    @cached_property
    def grid(self):
        return self.tree["grid"]

    @cached_property
    def township(self):
        return self.tree["township"]

    def _case(self, title, *, reporter=None, council=None, source=Source.GRID_REPORT, **kwargs):
        return case_services.report_case(
            reporter=reporter or self.clerk,
            council=council or self.grid,
            source=source,
            category=kwargs.pop("category", Category.ROADS),
            level=Whistle.ROUTINE,
            title=title,
            description=f"{title}，已经一个多星期了。",
            place="3组村口",
            **kwargs,
        )

    @cached_property
    def reported_case(self):
        """A public grid report by the clerk, not yet accepted."""
        return self._case("村口路灯不亮", public=True)

    @cached_property
    def accepted_case(self):
        return case_services.accept_case(user=self.clerk, case=self._case("水沟堵了"))

    @cached_property
    def resolved_demand(self):
        """The resident's demand, resolved by the committee: only the resident confirms it."""
        demand = self._case(
            "垃圾没人清运",
            reporter=self.people["resident"],
            council=self.village,
            source=Source.DEMAND,
            category=Category.SANITATION,
        )
        case_services.accept_case(user=self.clerk, case=demand)
        return case_services.resolve_case(user=self.clerk, case=demand, outcome="每天清运一次。")

    def _dispute(self, title):
        dispute = self._case(
            title,
            reporter=self.spare_resident,
            council=self.village,
            source=Source.DISPUTE,
            category=Category.NEIGHBOURS,
            parties=[("applicant", "王小英"), ("respondent", "李大山")],
        )
        return dispute

    @cached_property
    def dispute(self):
        """A dispute with no mediator yet."""
        return self._dispute("宅基地边界纠纷")

    @cached_property
    def mediated_dispute(self):
        """A dispute whose mediator is the clerk, with no agreement yet."""
        dispute = self._dispute("排水沟占地纠纷")
        case_services.name_mediator(
            user=self.clerk, case=dispute, mediator=self.clerk, mediator_council=self.village
        )
        return dispute

    @cached_property
    def agreed_dispute(self):
        dispute = self._dispute("院墙纠纷")
        case_services.name_mediator(
            user=self.clerk, case=dispute, mediator=self.clerk, mediator_council=self.village
        )
        case_services.record_agreement(
            user=self.clerk,
            case=dispute,
            agreement="李家把院墙往东移半米。",
            follow_up_on=timezone.localdate() + datetime.timedelta(days=30),
        )
        return dispute

    @cached_property
    def visit(self):
        return case_services.log_visit(
            visitor=self.clerk, council=self.grid, households=12, notes="走访3组12户。"
        )

    @cached_property
    def department(self):
        """A township department with one member (`department_member`)."""
        department = case_services.register_department(
            user=self.clerk_official,
            council=self.township,
            name="白沙派出所",
            kind=DepartmentKind.POLICE,
        )
        case_services.add_department_member(
            user=self.clerk_official, department=department, member=self.department_member
        )
        return department

    @cached_property
    def department_member(self):
        return UserFactory()

    @cached_property
    def summary(self):
        """The grid's unsigned summary of last week."""
        week = summaries.last_week()
        summaries.build_week(week_start=week, councils=[self.grid])
        return WeeklySummary.objects.get(council=self.grid, week_start=week)

    # --- the index (governance) ---------------------------------------------------------------

    @cached_property
    def gov(self) -> dict:
        """The township's Rui'an index with a draft version, a draft figure for the village and
        a published one (tests.governance.index_objects.matrix_objects)."""
        from tests.governance.index_objects import matrix_objects

        return matrix_objects(self)

    @cached_property
    def index_without_draft(self):
        """An index in use with no draft, for starting a new version."""
        from governance import services as governance_services

        return governance_services.create_index(
            owner=self.township, name="另一个指数", by=self.clerk_official
        )


def xlsx_upload():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(
        "三月.xlsx",
        excel.template_workbook(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def register_xlsx_upload():
    """An assets register of one building, as a village writes it (assets.excel)."""
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.active.title = "资产"
    workbook.active.append(["编号", "名称", "类别", "坐落位置", "账面价值（元）"])
    workbook.active.append(["ZC-901", "村委办公楼", "房屋", "村中心", 850000])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return SimpleUploadedFile(
        "资产.xlsx",
        buffer.getvalue(),
        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


def pdf_upload():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("凭证.pdf", b"%PDF-1.4\n% voucher\n", content_type="application/pdf")
