"""Demo content for the halls: a village hall with topics, a live-looking debate, stances, an
official answer and a consultation day. Idempotent: a council with halls of its own is left
alone (the budget halls created by the budget demo do not count)."""

from datetime import timedelta

from django.utils import timezone

from councils.models import Membership, MembershipStatus, Role
from deliberation import services
from deliberation.models import Hall, StanceValue, TopicCategory, TopicStatus

TOPICS = [
    (
        "村东头的垃圾桶不够用",
        "每到周末垃圾就溢出来，能不能多放两个桶、增加清运次数？",
        TopicCategory.ENVIRONMENT,
        "村东头小卖部旁",
        [
            "同意，夏天味道太大了。",
            "我家就在旁边，苍蝇很多。",
            "清运次数多了要加钱吧？村里出还是大家出？",
        ],
    ),
    (
        "希望开一个老年人助餐点",
        "村里独居老人多，中午吃饭不方便。",
        TopicCategory.ELDERLY_CHILDREN,
        "村委会旁",
        ["我妈一个人在家，很需要。", "可以先问问有多少老人愿意来吃。"],
    ),
    (
        "下雨天小学门口积水",
        "孩子上学要蹚水，请修一下排水。",
        TopicCategory.WATER,
        "村小学门口",
        ["去年就说过了。", "建议和参与式预算一起考虑。"],
    ),
]

# How the first six residents stand on every demo topic.
STANCES = (
    StanceValue.SUPPORT,
    StanceValue.SUPPORT,
    StanceValue.SUPPORT,
    StanceValue.NEUTRAL,
    StanceValue.OPPOSE,
    StanceValue.SUPPORT,
)


def _people(village, role):
    return [
        m.user
        for m in Membership.objects.filter(
            council=village, role=role, status=MembershipStatus.VERIFIED
        ).select_related("user")
    ]


def build(village) -> int:
    if Hall.objects.filter(council=village).exclude(title__startswith="参与式预算").exists():
        return 0
    residents = _people(village, Role.RESIDENT)
    committee = _people(village, Role.COMMITTEE)
    if len(residents) < 6 or not committee:
        return 0
    hall = Hall.objects.create(
        council=village,
        title=f"{village.title}民主议事厅",
        description="村里的大事小事，大家一起商量。",
    )
    for index, (title, text, category, place, replies) in enumerate(TOPICS):
        topic = services.raise_topic(
            author=residents[index],
            hall=hall,
            title=title,
            description=text,
            category=category,
            location=place,
        )
        for offset, body in enumerate(replies):
            services.post_message(author=residents[index + offset + 1], topic=topic, body=body)
        for voter, value in zip(
            residents[:6],
            STANCES,
            strict=True,
        ):
            services.set_stance(user=voter, topic=topic, value=value)
        if index == 0:
            services.change_topic_status(
                actor=committee[0],
                topic=topic,
                status=TopicStatus.TAKEN_UP,
                reason="村委会已接单。",
            )
            services.answer_topic(
                actor=committee[0],
                topic=topic,
                answer="下周起增加两个垃圾桶，周末加清运一次，费用由村集体承担。",
            )
    start = timezone.now() + timedelta(days=10)
    services.schedule_consultation_day(
        actor=committee[0],
        hall=hall,
        title="民情恳谈日：村容村貌",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        place="村委会二楼会议室",
        officials="镇党委副书记、镇城建办主任",
    )
    return 1
