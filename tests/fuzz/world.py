"""One small village with something in every state a form can act on, built with the services.

Built once per test module inside an outer transaction (see conftest.world); each test then runs
in a savepoint, so what a fuzzed request saves is rolled back before the next test.
"""

import datetime
import io
from decimal import Decimal

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from openpyxl import Workbook

from budgets import services as budgets
from budgets.models import ProgressStatus
from cases import services as cases
from cases import summaries
from cases.models import Category, DepartmentKind, Source, WeeklySummary, Whistle
from councils import services as councils
from councils.models import Role
from deliberation import services as halls
from disclosure import services as disclosure
from disclosure.models import ExportJob, ImportBatch, RecordType
from meetings import services as sessions
from tests.budgets.factories import add_proposal, make_cycle, set_phase
from tests.councils.factories import UserFactory, make_tree, member
from tests.deliberation.factories import HallFactory, TopicFactory
from tests.disclosure.factories import draft, line, publish, signed_off


class World:
    """Not a dataclass: Hypothesis would print every object of it with a failing example."""

    def __init__(self, *, tree: dict, people: dict, objects: dict):
        self.tree = tree
        self.people = people  # actor name -> User
        self.objects = objects  # object name -> model instance

    def __getitem__(self, name):
        return self.objects[name]

    def __repr__(self):  # Hypothesis prints the arguments of a failing example
        return "World()"


def _with_role(village, role):
    user = member(village)
    if role:
        member(village, role, user=user)
    return user


def _xlsx() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["日期", "凭证号", "科目", "摘要", "收入", "支出", "对方单位"])
    sheet.append(
        [datetime.date(2025, 4, 3), "记-001", "村集体收入", "鱼塘承包费", 12000, None, "张三"]
    )
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _register_import(village, committee):
    """An upload of the assets register, previewed without problems (assets.excel)."""
    from assets import excel as assets_excel

    workbook = Workbook()
    workbook.active.title = "资产"
    workbook.active.append(["编号", "名称", "类别", "坐落位置", "账面价值（元）"])
    workbook.active.append(["ZC-901", "村委办公楼", "房屋", "村中心", 850000])
    buffer = io.BytesIO()
    workbook.save(buffer)
    upload = SimpleUploadedFile("资产.xlsx", buffer.getvalue())
    return assets_excel.preview_import(
        council=village, by=committee, register="asset", upload=upload
    ).batch


def _registers(village, committee, supervisor, o: dict) -> None:
    """A draft register entry and a published one (assets/), each through its record."""
    from assets import services as assets

    second = _with_role(village, Role.COMMITTEE)
    fields = {"name": "村东鱼塘", "category": "pond", "area": "12.5", "boundaries": "东至水渠"}
    o["register_draft"] = assets.draft_entry(
        council=village, by=committee, register="resource", fields=fields
    )
    published = assets.draft_entry(
        council=village, by=committee, register="asset", fields=REGISTER_ASSET
    )
    assets.submit_version(version=published, by=committee)
    disclosure.sign_off_record(record=published.record, by=supervisor)
    disclosure.publish_record(record=published.record, by=second)
    published.refresh_from_db()
    o["register_published"] = published


REGISTER_ASSET = {"name": "村委办公楼", "category": "building", "book_value": "850000"}


def build_world() -> World:
    tree = make_tree()
    village = tree["village"]
    committee = _with_role(village, Role.COMMITTEE)
    supervisor = _with_role(village, Role.SUPERVISOR)
    reps = [_with_role(village, Role.REPRESENTATIVE) for _ in range(2)]
    people = {
        "committee": committee,
        "supervisor": supervisor,
        "resident": _with_role(village, None),
        "representative": reps[0],
        "outsider": UserFactory(),
        "official": member(tree["township"], Role.OFFICIAL),
        "applicant": UserFactory(),
        "grid_worker": member(tree["grid"], Role.GRID_WORKER),
        "department_member": UserFactory(),
    }
    o = {"village": village, "township": tree["township"]}

    # councils: a request to verify and one to reject
    o["pending"] = councils.request_membership(
        user=people["applicant"], council=village, house_number="3组12号"
    )

    # halls: a topic with a message, a second topic to merge into, a consultation day
    o["hall"] = hall = HallFactory(council=village)
    o["topic"] = topic = TopicFactory(hall=hall, author=people["resident"])
    o["other_topic"] = TopicFactory(hall=hall, author=people["resident"])
    o["message"] = halls.post_message(
        author=people["resident"], topic=topic, body="路该修了"
    ).message
    o["answered_topic"] = answered = TopicFactory(hall=hall, author=people["resident"])
    halls.answer_topic(actor=committee, topic=answered, answer="已报修，本周修好。")
    o["day"] = halls.schedule_consultation_day(
        actor=committee,
        hall=hall,
        title="民情恳谈日",
        starts_at=timezone.now() + datetime.timedelta(days=3),
        place="村委会",
        officials="李明（镇党委副书记）",
    )

    # councils: a representative's role the committee may end
    o["rep_membership"] = reps[1].memberships.get(role=Role.REPRESENTATIVE)

    # councils: a villager without an account on the household register
    o["register_entry"] = councils.add_register_member(
        by=committee, council=village, number="9组1号", name="王秀兰"
    )

    # budgets: one cycle collecting, one voting, one closed with a finished project
    o["collect_cycle"] = collect = make_cycle(village, phase="collect")
    o["submitted"] = add_proposal(collect, "修水渠", "5000", feasible=False)
    o["vote_cycle"] = vote = make_cycle(village, phase="vote")
    o["ballot_a"] = add_proposal(vote, "路灯", "20000")
    o["ballot_b"] = add_proposal(vote, "修桥", "30000")
    o["closed_cycle"] = closed = make_cycle(village, phase="vote", total_amount=Decimal("100"))
    o["funded"] = road = add_proposal(closed, "修路", "60")
    for voter in reps:
        budgets.cast_ballot(voter=voter, cycle=closed, choices={road.pk: 1})
    set_phase(closed, "results")
    budgets.publish_results(by=committee, cycle=closed)
    budgets.post_progress(by=committee, proposal=road, status=ProgressStatus.DONE, note="路修好了")
    # an objection during 结果公示, waiting for the committee's answer
    o["objection"] = budgets.file_objection(
        author=people["resident"], cycle=closed, reason="路灯的票数统计有误，请复核。"
    )

    # sessions: one open with a vote running and check-in open, one closed with a passed
    # motion, a draft and a published set of minutes
    o["session"] = session = sessions.open_session(
        early=True,
        actor=committee,
        session=sessions.schedule_session(
            actor=committee,
            council=village,
            kind="representatives",
            title="第三季度村民代表会议",
            starts_at=timezone.now() + datetime.timedelta(hours=1),
            place="村委会二楼",
        ),
    )
    for user in (committee, *reps):
        sessions.record_attendance(
            actor=committee, session=session, entry=session.roster.get(person=user), present=True
        )
    sessions.open_check_in(actor=committee, session=session)
    o["motion"] = sessions.open_vote(
        actor=committee,
        motion=sessions.add_motion(actor=committee, session=session, title="硬化道路"),
    )
    o["closed_session"] = closed_session = sessions.open_session(
        early=True,
        actor=committee,
        session=sessions.schedule_session(
            actor=committee,
            council=village,
            kind="representatives",
            title="第二季度村民代表会议",
            starts_at=timezone.now() + datetime.timedelta(hours=2),
            place="村委会二楼",
        ),
    )
    for user in (committee, *reps):
        sessions.record_attendance(
            actor=committee,
            session=closed_session,
            entry=closed_session.roster.get(person=user),
            present=True,
        )
    passed = sessions.open_vote(
        actor=committee,
        motion=sessions.add_motion(actor=committee, session=closed_session, title="修建桥梁"),
    )
    for user in (committee, *reps):
        sessions.cast_vote(voter=user, motion=passed, choice="yes")
    o["passed_motion"] = sessions.close_vote(actor=committee, motion=passed)
    sessions.close_session(actor=committee, session=closed_session)
    o["minutes"] = sessions.draft_minutes(
        actor=committee, session=closed_session, narrative="会议讨论了桥梁修建。"
    )
    o["scheduled_session"] = sessions.schedule_session(
        actor=committee,
        council=village,
        kind="representatives",
        title="第四季度村民代表会议",
        starts_at=timezone.now() + datetime.timedelta(days=30),
        place="村委会二楼",
    )
    third = sessions.open_session(
        early=True,
        actor=committee,
        session=sessions.schedule_session(
            actor=committee,
            council=village,
            kind="representatives",
            title="第一季度村民代表会议",
            starts_at=timezone.now() + datetime.timedelta(hours=3),
            place="村委会二楼",
        ),
    )
    sessions.close_session(actor=committee, session=third)
    o["published_minutes"] = sessions.publish_minutes(
        actor=committee,
        minutes=sessions.draft_minutes(actor=committee, session=third, narrative="纪要"),
    )

    # disclosure: a draft with a line, one in review, one signed off, one published + question
    o["draft"] = record = draft(village, committee, title="2025年3月财务收支明细")
    o["line"] = line(record, committee, income=Decimal("100.00"), description="租金收入")
    o["in_review"] = disclosure.submit_for_review(
        record=draft(village, committee, start=datetime.date(2025, 5, 1)), by=committee
    )
    o["signed_off"] = signed_off(
        draft(village, committee, start=datetime.date(2025, 6, 1)),
        committee=committee,
        supervisor=supervisor,
    )
    published = draft(village, committee, start=datetime.date(2025, 7, 1))
    line(published, committee, expense=Decimal("50.00"), description="办公用品")
    o["published"] = publish(published, committee=committee, supervisor=supervisor)
    o["question"] = disclosure.ask_question(
        record=o["published"], by=people["resident"], text="这笔办公用品是买的什么？"
    )
    disclosure.start_import(
        council=village,
        by=committee,
        record_type=RecordType.STATEMENT,
        period_kind="month",
        period_start=datetime.date(2025, 4, 1),
        title="2025年4月收支明细",
        upload=SimpleUploadedFile("四月.xlsx", _xlsx()),
    )
    o["import"] = ImportBatch.objects.latest("pk")
    o["register_import"] = _register_import(village, committee)
    _registers(village, committee, supervisor, o)
    from core.models import TaskRun

    o["export"] = ExportJob.objects.create(
        council=village,
        what="ledger",
        kind="finance",
        fmt="csv",
        chain_position=0,
        filename="yishi-finance.csv",
        run=TaskRun.objects.create(
            work="disclosure.exports.build_export", status="failed", attempts=3, max_attempts=3
        ),
    )
    _cases(tree, people, o)
    return World(tree=tree, people=people, objects=o)


def _cases(tree: dict, people: dict, o: dict) -> None:
    """Cases: a township department with a member and an idle one, a case in each state a step
    acts on (reported, accepted, resolved, whistled in), a dispute with a mediator and one with
    an agreement, a visit, and an unsigned weekly summary of the grid."""
    grid, village, township = tree["grid"], tree["village"], tree["township"]
    official, committee = people["official"], people["committee"]
    grid_worker, resident = people["grid_worker"], people["resident"]
    o["grid"] = grid

    o["department"] = department = cases.register_department(
        user=official, council=township, name="白沙派出所", kind=DepartmentKind.POLICE
    )
    cases.add_department_member(
        user=official, department=department, member=people["department_member"]
    )
    o["idle_department"] = cases.register_department(
        user=official, council=township, name="镇城管办", kind=DepartmentKind.URBAN
    )

    def report(reporter, council, source, title, **kwargs):
        return cases.report_case(
            reporter=reporter,
            council=council,
            source=source,
            category=kwargs.pop("category", Category.ROADS),
            level=kwargs.pop("level", Whistle.ROUTINE),
            title=title,
            description=kwargs.pop("description", f"{title}，已经一个多星期了。"),
            place=kwargs.pop("place", "3组村口"),
            **kwargs,
        )

    o["reported_case"] = report(grid_worker, grid, Source.GRID_REPORT, "村口路灯不亮", public=True)
    o["accepted_case"] = cases.accept_case(
        user=committee,
        case=report(
            grid_worker, grid, Source.GRID_REPORT, "水沟堵了", category=Category.SANITATION
        ),
    )
    demand = cases.accept_case(
        user=committee,
        case=report(resident, village, Source.DEMAND, "垃圾没人清运", category=Category.SANITATION),
    )
    o["resolved_case"] = cases.resolve_case(
        user=committee, case=demand, outcome="已联系保洁员，每天清运一次。"
    )
    o["whistled_case"] = cases.whistle_case(
        user=official,
        case=report(
            grid_worker,
            grid,
            Source.GRID_REPORT,
            "山坡有落石",
            category=Category.SAFETY,
            level=Whistle.DIFFICULT,
        ),
        department=department,
        reason="",
    )

    def dispute(title):
        case = report(
            resident,
            village,
            Source.DISPUTE,
            title,
            category=Category.NEIGHBOURS,
            parties=[("applicant", "王小英"), ("respondent", "李大山")],
        )
        cases.name_mediator(user=committee, case=case, mediator=committee, mediator_council=village)
        return case

    o["dispute"] = dispute("宅基地边界纠纷")
    o["agreed_dispute"] = agreed = dispute("排水沟占地纠纷")
    cases.record_agreement(
        user=committee,
        case=agreed,
        agreement="李家把排水沟往东移半米，王家不再追究。",
        follow_up_on=timezone.localdate() + datetime.timedelta(days=30),
    )

    o["visit"] = cases.log_visit(
        visitor=grid_worker, council=grid, households=12, notes="走访3组12户，两户说路灯不亮。"
    )
    summaries.build_week(week_start=summaries.last_week(), councils=[grid])
    o["summary"] = WeeklySummary.objects.get(council=grid, week_start=summaries.last_week())
