"""Demo content for participatory budgets: one cycle voting now, one finished with results,
progress and ratings. Idempotent: a village that already has cycles is left alone."""

import random
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from budgets import selectors, services
from budgets.models import (
    BallotType,
    BudgetCycle,
    Phase,
    PhaseKind,
    ProgressStatus,
    ProposalStatus,
)
from councils.models import Membership, MembershipStatus, Role
from deliberation.models import TopicCategory

IDEAS = [
    (
        "村口装太阳能路灯",
        "晚上村口太黑，老人和孩子出门不安全。",
        TopicCategory.SAFETY,
        "村口到祠堂",
        36000,
    ),
    ("修补三组巷道", "三组巷道坑洼，下雨积水，电动车常摔倒。", TopicCategory.ROADS, "三组", 52000),
    (
        "建儿童游乐角",
        "村里孩子多，没有安全的玩耍地方。",
        TopicCategory.ELDERLY_CHILDREN,
        "文化广场东侧",
        28000,
    ),
    (
        "老年食堂添置桌椅",
        "老年食堂桌椅破旧，不够坐。",
        TopicCategory.ELDERLY_CHILDREN,
        "老年食堂",
        12000,
    ),
    ("清理河道垃圾", "河道垃圾多，夏天有异味。", TopicCategory.ENVIRONMENT, "村前小河", 18000),
    ("安装健身器材", "广场缺少健身设施。", TopicCategory.SERVICES, "文化广场", 24000),
]


def _people(village, role):
    return [
        m.user
        for m in Membership.objects.filter(
            council=village, role=role, status=MembershipStatus.VERIFIED
        ).select_related("user")
    ]


def _shift(cycle, open_phase: str | None, *, closed: bool = False) -> None:
    """Move the calendar so that `open_phase` is open now (or the vote closed days ago)."""
    now = timezone.now()
    phases = list(Phase.objects.filter(cycle=cycle).order_by("starts_at"))
    kinds = [p.kind for p in phases]
    anchor = kinds.index(open_phase)
    for position, phase in enumerate(phases):
        phase.starts_at = now + timedelta(days=7 * (position - anchor)) - timedelta(days=2)
        phase.ends_at = phase.starts_at + timedelta(days=7)
        phase.save()


def build(village, *, seed: int = 7) -> int:
    if BudgetCycle.objects.filter(council=village).exists():
        return 0
    rng = random.Random(seed + village.pk)
    residents = _people(village, Role.RESIDENT)
    committee = _people(village, Role.COMMITTEE)
    if len(residents) < 6 or not committee:
        return 0
    made = 0
    for title, finished in (
        (f"{timezone.now().year - 1}年微实事", True),
        (f"{timezone.now().year}年微实事", False),
    ):
        cycle = services.create_cycle(
            by=None,
            council=village,
            title=title,
            total_amount=Decimal("100000"),
            description="村集体拿出十万元，由村民提出、商量、投票决定办哪些实事。",
            ballot_type=BallotType.APPROVAL if finished else BallotType.KNAPSACK,
            max_choices=3,
        )
        _shift(cycle, PhaseKind.COLLECT)
        proposals = []
        for index, (name, text, category, place, cost) in enumerate(rng.sample(IDEAS, 5)):
            proposals.append(
                services.submit_proposal(
                    author=residents[index % len(residents)],
                    cycle=cycle,
                    title=name,
                    description=text,
                    estimated_cost=Decimal(cost),
                    category=category,
                    location=place,
                    beneficiaries="全体村民",
                )
            )
        for proposal in proposals[:-1]:
            services.review_proposal(
                by=committee[0],
                proposal=proposal,
                feasible=True,
                reason="经现场查看，可以实施，费用按报价核定。",
                checked_cost=proposal.estimated_cost,
            )
        services.review_proposal(
            by=committee[0],
            proposal=proposals[-1],
            feasible=False,
            reason="属于镇水利站职责，已转交镇里。",
        )
        _shift(cycle, PhaseKind.VOTE)
        feasible = list(cycle.proposals.filter(status=ProposalStatus.FEASIBLE))
        for voter in residents[: len(residents) * 2 // 3]:
            picks, total = {}, Decimal("0")
            for proposal in rng.sample(feasible, len(feasible)):
                if len(picks) < 3 and total + proposal.cost <= cycle.total_amount:
                    picks[proposal.pk] = 1
                    total += proposal.cost
            services.cast_ballot(voter=voter, cycle=cycle, choices=picks)
        if finished:
            _shift(cycle, PhaseKind.IMPLEMENTATION)
            services.publish_results(by=committee[0], cycle=cycle)
            for proposal in selectors.funded_proposals(cycle):
                services.post_progress(
                    by=committee[0],
                    proposal=proposal,
                    status=ProgressStatus.DONE,
                    note="已按计划完工，欢迎监督。",
                    spent_so_far=(proposal.cost * Decimal("0.96")).quantize(Decimal("0.01")),
                )
                for resident in residents[:5]:
                    services.rate_project(
                        user=resident, proposal=proposal, score=rng.choice([3, 4, 4, 5, 5])
                    )
        made += 1
    return made
