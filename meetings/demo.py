"""Demo content for representatives' sessions: one finished meeting with a roll call, a proxy,
a roll-call vote that passed, published minutes and the resolution sent to the village-affairs
ledger; one meeting scheduled next week. Idempotent."""

from datetime import timedelta

from django.db import transaction
from django.utils import timezone

from budgets.models import BudgetCycle
from councils.models import Membership, MembershipStatus, Role
from meetings import services
from meetings.models import Attendance, Session, SessionKind, VoteChoice


@transaction.atomic
def build(village) -> int:
    if Session.objects.filter(council=village).exists():
        return 0
    chair = Membership.objects.filter(
        council=village, role=Role.COMMITTEE, status=MembershipStatus.VERIFIED
    ).first()
    if chair is None:
        return 0
    chair = chair.user
    meeting = services.schedule_session(
        actor=chair,
        council=village,
        kind=SessionKind.REPRESENTATIVES,
        title="村民代表会议：审议本年度微实事项目",
        starts_at=timezone.now() - timedelta(hours=3),
        place="村委会会议室",
    )
    cycle = BudgetCycle.objects.filter(council=village).order_by("-created").first()
    item = services.add_agenda_item(
        actor=chair,
        session=meeting,
        title="本年度微实事预算安排",
        description="听取参与式预算投票情况，审议实施方案。",
        budget_cycle=cycle,
    )
    services.open_session(actor=chair, session=meeting)
    roster = list(meeting.roster.all().order_by("pk"))
    for entry in roster[:-2]:
        services.record_attendance(actor=chair, session=meeting, entry=entry, present=True)
    services.record_proxy(actor=chair, session=meeting, giver=roster[-2], holder=roster[0])
    motion = services.add_motion(
        actor=chair,
        session=meeting,
        title="同意按投票结果实施微实事项目",
        text="按参与式预算投票结果实施，由村务监督委员会全程监督。",
        agenda_item=item,
    )
    services.open_vote(actor=chair, motion=motion)
    choices = [VoteChoice.YES] * (len(roster) - 3) + [VoteChoice.ABSTAIN]
    present = [e for e in meeting.roster.all().order_by("pk") if e.attendance == Attendance.PRESENT]
    for entry, choice in zip(present, choices, strict=False):
        services.cast_vote(voter=entry.person, motion=motion, choice=choice)
    services.cast_vote(
        voter=roster[0].person, motion=motion, choice=VoteChoice.YES, on_behalf_of=roster[-2]
    )
    services.close_vote(actor=chair, motion=motion)
    services.publish_resolution(actor=chair, motion=motion)
    services.close_session(actor=chair, session=meeting)
    minutes = services.draft_minutes(
        actor=chair, session=meeting, narrative="会议由村委会主任主持，与会代表充分讨论后表决。"
    )
    services.publish_minutes(actor=chair, minutes=minutes)
    services.schedule_session(
        actor=chair,
        council=village,
        kind=SessionKind.REPRESENTATIVES,
        title="村民代表会议：村规民约修订",
        starts_at=timezone.now() + timedelta(days=7),
        place="村委会会议室",
    )
    return 2
