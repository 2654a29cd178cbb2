"""A small world with everything the API must show and everything it must never show.

Built with the real services where they exist. `World.secrets` lists text that no answer of the
API may contain: phone numbers, real names, household register names, the unmasked names of a
welfare list, hidden and held messages, drafts, a private hall's topics, a draft index version's
figures, case rows, what people wrote to the committee."""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from budgets import services as budget_services
from cases import figures as case_figures
from cases.models import Category, Source, Whistle
from cases.services import report_case
from councils.models import Household, HouseholdMember, Membership, Role
from deliberation import services as hall_services
from deliberation.models import ModerationAction, StanceValue
from disclosure import services as disclosure_services
from disclosure.models import Kind, RecordType
from governance.models import (
    EnteredFigure,
    FigureStatus,
    Index,
    IndexScore,
    IndexVersion,
    MetricValue,
    PeriodKind,
    VersionStatus,
)
from tests.budgets.factories import add_proposal, make_cycle, set_phase
from tests.councils.factories import UserFactory, make_council, member
from tests.deliberation.factories import HallFactory
from tests.disclosure.factories import draft, line, people, publish

MARCH = datetime.date(2026, 3, 1)
# A value no public figure has: a draft entered figure and a draft version's score use it.
DRAFT_FIGURE = Decimal("8765.43")
DRAFT_SCORE = Decimal("77.77")
# Figures of the council not yet published.
HIDDEN_VALUE = Decimal("43.21")
HIDDEN_SCORE = Decimal("55.55")
# Routine road reports in the grid: enough for their row of case figures to be shown.
CASE_ROUTINE_REPORTS = 3


@dataclass
class World:
    tree: dict
    objects: dict = field(default_factory=dict)
    secrets: list[str] = field(default_factory=list)
    # Text the API must show (so that the walk is known to have reached it).
    shown: list[str] = field(default_factory=list)

    def keep_secret(self, *texts) -> None:
        self.secrets.extend(str(text) for text in texts if text)


def _person_secrets(world: World, users) -> None:
    for user in users:
        world.keep_secret(user.phone, user.real_name, user.display_name)


def build_world(tree) -> World:
    world = World(tree=tree)
    village = tree["village"]
    p = people(tree)
    world.objects["people"] = p

    # --- households and memberships: names on the register, what people wrote -----------------
    household = Household.objects.create(council=village, number="3组12号", head=p.resident)
    HouseholdMember.objects.create(household=household, name="赵铁柱", birth_year=1950)
    HouseholdMember.objects.create(household=household, name="孙秀兰", is_head=True)
    Membership.objects.create(
        user=UserFactory(),
        council=village,
        role=Role.RESIDENT,
        message="请核实我家门牌，我是老王的儿媳",
        house_number="3组99号",
    )
    world.keep_secret("赵铁柱", "孙秀兰", "请核实我家门牌", "3组99号")

    # --- records: a published welfare list and statement; drafts and one under review ----------
    welfare = draft(
        village,
        p.committee,
        kind=Kind.VILLAGE,
        record_type=RecordType.WELFARE_LIST,
        title="2026年3月低保名单",
        start=MARCH,
    )
    line(welfare, p.committee, expense=Decimal("680.00"), person_name="王小英")
    line(welfare, p.committee, expense=Decimal("720.00"), counterparty="李大明")
    welfare = publish(welfare, committee=p.committee, supervisor=p.supervisor)
    statement = draft(village, p.committee, title="2026年3月财务收支", start=MARCH)
    line(statement, p.committee, income=Decimal("1200.50"), description="鱼塘租金")
    statement = publish(statement, committee=p.committee, supervisor=p.supervisor)
    hidden_draft = draft(village, p.committee, title="草稿：尚未公开的账目", body="草稿正文内容")
    line(hidden_draft, p.committee, expense=Decimal("3333.33"), description="草稿里的支出")
    in_review = draft(village, p.committee, title="审核中：尚未公开", start=MARCH)
    disclosure_services.submit_for_review(record=in_review, by=p.committee)
    disclosure_services.ask_question(
        record=statement, by=p.resident, text="鱼塘租金为什么比去年少？我问的"
    )
    world.objects.update(welfare=welfare, statement=statement)
    world.objects.update(draft_record=hidden_draft, in_review=in_review)
    world.keep_secret("王小英", "李大明", "草稿：尚未公开的账目", "草稿正文内容", "草稿里的支出")
    world.keep_secret("3333.33", "审核中：尚未公开", "我问的")
    world.shown += ["王*英", "李*明", "2026年3月财务收支", "1200.50"]

    # --- halls: a public hall's topic with an answer, a hidden and a held message; a private
    # hall's topic --------------------------------------------------------------------------------
    public_hall = HallFactory(council=village, title="柳树村议事厅")
    private_hall = HallFactory(council=village, title="两委内部讨论", is_public=False)
    topic = hall_services.raise_topic(
        author=p.resident, hall=public_hall, title="村口路灯不亮", description="晚上太黑了"
    )
    hall_services.set_stance(user=p.resident, topic=topic, value=StanceValue.SUPPORT)
    hidden = hall_services.post_message(author=p.resident, topic=topic, body="这条留言被隐藏了")
    hall_services.moderate_message(
        actor=p.committee,
        message=hidden.message,
        action=ModerationAction.HIDE,
        reason="隐藏的理由不公开",
    )
    hall_services.post_message(author=p.committee, topic=topic, body="公开留言但无作者")
    hall_services.answer_topic(actor=p.committee, topic=topic, answer="下周一换新灯")
    private_topic = hall_services.raise_topic(
        author=p.resident, hall=private_hall, title="内部议题标题", description="内部议题正文"
    )
    world.objects.update(topic=topic, private_topic=private_topic)
    world.objects.update(public_hall=public_hall, private_hall=private_hall)
    world.keep_secret("这条留言被隐藏了", "隐藏的理由不公开", "内部议题标题", "内部议题正文")
    world.keep_secret("两委内部讨论")
    world.shown += ["村口路灯不亮", "下周一换新灯"]

    # --- budgets: published results (with a paper ballot from the register), a closed vote
    # whose results are not published yet --------------------------------------------------------
    published_cycle = make_cycle(village, phase="vote", title="2026年微实事", total_amount="100")
    road = add_proposal(published_cycle, "修村道", "60")
    lamps = add_proposal(published_cycle, "装路灯", "60")
    for _ in range(3):
        budget_services.cast_ballot(
            voter=member(village), cycle=published_cycle, choices={road.pk: 1}
        )
    budget_services.cast_ballot(voter=p.resident, cycle=published_cycle, choices={lamps.pk: 1})
    set_phase(published_cycle, "results")
    budget_services.publish_results(by=p.committee, cycle=published_cycle)
    unpublished_cycle = make_cycle(village, phase="vote", title="秋季微实事", total_amount="100")
    secret_project = add_proposal(unpublished_cycle, "还没公布结果的项目", "50")
    budget_services.cast_ballot(
        voter=p.resident, cycle=unpublished_cycle, choices={secret_project.pk: 1}
    )
    set_phase(unpublished_cycle, "results")
    world.objects.update(published_cycle=published_cycle, unpublished_cycle=unpublished_cycle)
    world.shown += ["修村道"]

    # --- cases: reports with reporters and dispute parties; only their counts are public, and
    # only from CASE_ROUTINE_REPORTS on (the lone dispute is too few to show) -----------------
    grid_worker = member(tree["grid"], Role.GRID_WORKER)
    for n in range(CASE_ROUTINE_REPORTS):
        report_case(
            reporter=grid_worker,
            council=tree["grid"],
            source=Source.GRID_REPORT,
            category=Category.ROADS,
            level=Whistle.ROUTINE,
            title=f"案件标题不公开{n}",
            description="案件描述不公开",
            place="张家后院",
            public=True,
        )
    report_case(
        reporter=grid_worker,
        council=tree["grid"],
        source=Source.DISPUTE,
        category=Category.NEIGHBOURS,
        level=Whistle.PRIORITY,
        title="邻里纠纷",
        description="两家为宅基地争执",
        parties=[("applicant", "钱多多"), ("respondent", "周大福")],
    )
    world.keep_secret("案件标题不公开", "案件描述不公开", "张家后院", "钱多多", "周大福")
    world.keep_secret("两家为宅基地争执")

    # --- governance: figures, an index with a published, a retired and a draft version ---------
    for council in (village, tree["township"]):
        MetricValue.objects.create(
            council=council,
            council_path=council.path,
            council_level=council.level,
            period_kind=PeriodKind.MONTH,
            period_start=MARCH,
            metric="disclosure_on_time",
            numerator=3,
            denominator=4,
            value=Decimal("75.00"),
        )
    index = Index.objects.create(owner=tree["township"], name="强基善治指数", template="ruian")
    versions = {}
    for number, status in (
        (1, VersionStatus.RETIRED),
        (2, VersionStatus.PUBLISHED),
        (3, VersionStatus.DRAFT),
    ):
        versions[status] = IndexVersion.objects.create(
            index=index,
            number=number,
            status=status,
            star_thresholds=[60, 70, 80, 90, 95],
            published_at=None if status == VersionStatus.DRAFT else timezone.now(),
            note="草稿版本的修改说明" if status == VersionStatus.DRAFT else "",
        )
        IndexScore.objects.create(
            version=versions[status],
            council=village,
            council_path=village.path,
            council_level=village.level,
            period_kind=PeriodKind.MONTH,
            period_start=MARCH,
            score=DRAFT_SCORE if status == VersionStatus.DRAFT else Decimal("81.20"),
            stars=3,
            breakdown={"order": {"score": str(DRAFT_SCORE)}}
            if status == VersionStatus.DRAFT
            else {"order": {"score": "81.20"}},
        )
    EnteredFigure.objects.create(
        index=index,
        code="party_building",
        council=village,
        council_path=village.path,
        period_kind=PeriodKind.MONTH,
        period_start=MARCH,
        value=DRAFT_FIGURE,
        evidence_url="https://example.cn/evidence-draft",
        note="草稿数字的说明",
        status=FigureStatus.DRAFT,
        entered_by=p.official,
    )
    world.objects.update(index=index, versions=versions)
    world.keep_secret(DRAFT_FIGURE, DRAFT_SCORE, "草稿版本的修改说明", "草稿数字的说明")
    world.keep_secret("evidence-draft")
    world.shown += ["81.20", "强基善治指数"]

    # --- a council not yet published, with a published record, a cycle and a topic ---------------
    hidden_village = make_council(tree["township"], level="village", title="筹建中的村")
    committee = member(hidden_village, Role.COMMITTEE, user=member(hidden_village))
    supervisor = member(hidden_village, Role.SUPERVISOR, user=member(hidden_village))
    record = draft(hidden_village, committee, title="筹建村的公开记录")
    line(record, committee, income=Decimal("10.00"))
    publish(record, committee=committee, supervisor=supervisor)
    make_cycle(hidden_village, phase="collect", title="筹建村的预算")
    hidden_hall = HallFactory(council=hidden_village, title="筹建村议事厅")
    hall_services.raise_topic(
        author=member(hidden_village),
        hall=hidden_hall,
        title="筹建村的议题",
        description="筹建村的议题正文",
    )
    for n in range(CASE_ROUTINE_REPORTS):
        report_case(
            reporter=committee,
            council=hidden_village,
            source=Source.GRID_REPORT,
            category=Category.SANITATION,
            level=Whistle.ROUTINE,
            title=f"筹建村的案件{n}",
            description="筹建村的案件描述",
        )
    MetricValue.objects.create(
        council=hidden_village,
        council_path=hidden_village.path,
        council_level=hidden_village.level,
        period_kind=PeriodKind.MONTH,
        period_start=MARCH,
        metric="disclosure_on_time",
        numerator=1,
        denominator=1,
        value=HIDDEN_VALUE,
    )
    IndexScore.objects.create(
        version=versions[VersionStatus.PUBLISHED],
        council=hidden_village,
        council_path=hidden_village.path,
        council_level=hidden_village.level,
        period_kind=PeriodKind.MONTH,
        period_start=MARCH,
        score=HIDDEN_SCORE,
        stars=1,
        breakdown={"order": {"score": str(HIDDEN_SCORE)}},
    )
    case_figures.rebuild()
    hidden_village.unpublish()
    world.objects["hidden_village"] = hidden_village
    world.keep_secret("筹建中的村", "筹建村的公开记录", "筹建村的预算", "筹建村的议题")
    world.keep_secret(HIDDEN_VALUE, HIDDEN_SCORE, "筹建村的案件")

    _person_secrets(world, _everyone())
    return world


def _everyone():
    from core.models import User

    return list(User.objects.all())
