"""Demo content for the three openings: a village's published quarterly accounts, a welfare
list, a Party-affairs record, a draft waiting for the supervisors and a question with its
answer. Idempotent: a village that already has records is left alone."""

import datetime
from decimal import Decimal

from django.utils import timezone

from councils.models import Membership, MembershipStatus, Role
from disclosure import services
from disclosure.models import Kind, PeriodKind, Record, RecordType

LINES = [
    ("收", "上级转移支付", "转移支付收入", Decimal("120000.00"), None, "镇财政所"),
    ("收", "集体土地租金", "发包及上交收入", Decimal("36500.00"), None, "青山果业合作社"),
    ("付", "村道路灯电费", "管理费用", None, Decimal("2860.40"), "国网供电所"),
    ("付", "村保洁员工资（三个月）", "管理费用", None, Decimal("9000.00"), "保洁员"),
    ("付", "修补三组巷道", "公益支出", None, Decimal("49920.00"), "青山建筑队"),
    ("付", "村委会办公用品", "管理费用", None, Decimal("1265.50"), "新华书店"),
]


def _first(village, role):
    membership = Membership.objects.filter(
        council=village, role=role, status=MembershipStatus.VERIFIED
    ).first()
    return membership.user if membership else None


def _publish(record, committee, supervisor):
    services.submit_for_review(record=record, by=committee)
    services.sign_off_record(record=record, by=supervisor)
    return services.publish_record(record=record, by=committee)


def build(village) -> int:
    if Record.objects.filter(council=village).exists():
        return 0
    committee = _first(village, Role.COMMITTEE)
    supervisor = _first(village, Role.SUPERVISOR)
    resident = _first(village, Role.RESIDENT)
    if not (committee and supervisor and resident):
        return 0
    today = timezone.localdate()
    quarter_start = datetime.date(today.year, 3 * ((today.month - 1) // 3) + 1, 1)
    last_quarter = (quarter_start - datetime.timedelta(days=1)).replace(day=1)
    last_quarter = datetime.date(last_quarter.year, 3 * ((last_quarter.month - 1) // 3) + 1, 1)
    accounts = services.draft_record(
        council=village,
        by=committee,
        kind=Kind.FINANCE,
        record_type=RecordType.STATEMENT,
        period_kind=PeriodKind.QUARTER,
        period_start=last_quarter,
        title=f"{last_quarter.year}年第{(last_quarter.month - 1) // 3 + 1}季度财务收支公开",
        body="本季度收支明细如下，凭证可到村委会查阅。",
    )
    for number, (prefix, text, account, income, expense, counterparty) in enumerate(LINES, 1):
        services.add_line_item(
            record=accounts,
            by=committee,
            date=last_quarter + datetime.timedelta(days=7 * number),
            description=text,
            income=income,
            expense=expense,
            voucher_number=f"{prefix}-{number:03d}",
            account=account,
            counterparty=counterparty,
        )
    accounts = _publish(accounts, committee, supervisor)
    welfare = services.draft_record(
        council=village,
        by=committee,
        kind=Kind.VILLAGE,
        record_type=RecordType.WELFARE_LIST,
        period_kind=PeriodKind.QUARTER,
        period_start=last_quarter,
        title="本季度最低生活保障金发放名单",
        body="经村民代表会议评议、镇政府审批。",
    )
    for number, name in enumerate(["王秀英", "李德福", "张桂兰"], 1):
        services.add_line_item(
            record=welfare,
            by=committee,
            date=last_quarter + datetime.timedelta(days=20),
            description="最低生活保障金",
            person_name=name,  # kept only as 王*英
            expense=Decimal("780.00"),
            voucher_number=f"低保-{number:02d}",
            account="低保金",
        )
    _publish(welfare, committee, supervisor)
    party = services.draft_record(
        council=village,
        by=committee,
        kind=Kind.PARTY,
        record_type=RecordType.BRANCH_MEETING,
        period_kind=PeriodKind.QUARTER,
        period_start=last_quarter,
        title="党支部“三会一课”开展情况",
        body="本季度召开支部党员大会1次、支委会3次，上党课1次。",
    )
    _publish(party, committee, supervisor)
    draft = services.draft_record(
        council=village,
        by=committee,
        kind=Kind.FINANCE,
        record_type=RecordType.STATEMENT,
        period_kind=PeriodKind.QUARTER,
        period_start=quarter_start,
        title=f"{quarter_start.year}年第{(quarter_start.month - 1) // 3 + 1}季度财务收支（草稿）",
    )
    services.submit_for_review(record=draft, by=committee)
    question = services.ask_question(
        record=accounts, by=resident, text="修补三组巷道花了近五万元，有没有招标？"
    )
    services.answer_question(
        question=question,
        by=committee,
        answer="经村民代表会议决定，三家报价取最低，报价单已附在凭证里，欢迎查阅。",
    )
    return 4
