"""Demo content for cases: a month of a village's cases, lived through the real services.

Every step (report, accept, whistle, resolve, confirm, mediate ...) is a call to cases.services
with `now=` set to its moment in the past month, in the order of those moments; the reaper's
sweep (escalate_overdue, close_unconfirmed) runs every six simulated hours in between, so the
overdue cases escalate when they would have. The month covers every source, whistle level and
category, and every way a case ends: closed satisfied, reopened on a poor rating and closed
later, escalated, whistled to a department that reported in, passed on to another department,
resolved and waiting for the reporter, closed unconfirmed, still open, and one dispute mediated
by a rural worthy with an agreement and a follow-up; today, the committee escalates a hall topic.
The township gets its departments (with a demo member each) and two level rules. A community
(社区) gets urban matters in place of the rural ones.

Idempotent: a village with any case is left alone; departments, rules and the people made here
are found again by name or phone number.
"""

import dataclasses
import datetime
import random
from functools import partial

from django.db import transaction
from django.utils import timezone

from cases import figures, services
from cases.models import (
    Case,
    CaseFigure,
    CaseParty,
    Category,
    Department,
    DepartmentKind,
    DepartmentMember,
    LevelRule,
    Source,
    Tier,
    Whistle,
)
from cases.notices import case_url
from councils.demo import DEMO_VILLAGES, GIVEN_NAMES, SURNAMES, DemoBuilder
from councils.models import CouncilPage, Level, Membership, MembershipStatus, Role
from deliberation.models import DISCUSSABLE_STATUSES, Topic
from notifications.kinds import Kind
from notifications.models import Delivery, DeliveryStatus

DAYS = 30
# The reaper sweeps every minute; the demo every six simulated hours is enough (an overdue case
# escalates a few hours late) and keeps `make run` quick.
SWEEP_EVERY = datetime.timedelta(hours=6)
# A month is some thirty cases and two hundred steps, a few seconds: the first two demo villages
# get the whole month, the others only the cases of its last ten days.
WHOLE_MONTH_VILLAGES = 2
LATE_DAYS_FROM = 20
# Demo people made here have numbers of their own (councils.demo counts up from 13900000001).
DEPARTMENT_PHONES = 90_000_000  # + township id x 10 + the department's place
WORTHY_PHONES = 91_000_000  # + the worthies council's id
GRID_WORKER_PHONES = 92_000_000  # + the grid's id

# (name after the township's, kind, the member's title)
DEPARTMENTS = (
    ("派出所", DepartmentKind.POLICE, "民警"),
    ("司法所", DepartmentKind.JUSTICE, "人民调解员"),
    ("综合执法队", DepartmentKind.URBAN, "执法队员"),
    ("民政办", DepartmentKind.CIVIL, "民政专干"),
)
# The township's own rules for two levels (the difficult whistle keeps the default): small
# matters stay in the grid (小事不出网格), priority ones are the village's, the township told.
LEVEL_RULES = (
    (Whistle.ROUTINE, Tier.GRID, False, 24, 5),
    (Whistle.PRIORITY, Tier.VILLAGE, True, 12, 3),
)


@dataclasses.dataclass(frozen=True)
class Step:
    hours: float  # after the report
    do: str
    text: str = ""
    rating: int = 0
    department: str = ""  # a DepartmentKind, to whistle to
    follow_up_days: int = 0


def accept(hours):
    return Step(hours, "accept")


def start(hours, text=""):
    return Step(hours, "start", text)


def note(hours, text):
    return Step(hours, "note", text)


def whistle(hours, department, reason=""):
    return Step(hours, "whistle", reason, department=department)


def resolve(hours, outcome):
    return Step(hours, "resolve", outcome)


def confirm(hours, rating, comment=""):
    return Step(hours, "confirm", comment, rating=rating)


@dataclasses.dataclass(frozen=True)
class Spec:
    key: str
    day: int  # 0 is thirty days ago, 29 yesterday
    hour: float
    source: str
    category: str
    level: str
    where: str  # "g1", "g2" (the village's first and second grid) or "village"
    by: str  # "grid" (the grid worker), "resident" or "committee"
    title: str
    description: str
    place: str = ""
    public: bool = False
    parties: tuple = ()  # (side, name); "{reporter}" is the reporter's real name
    visit: tuple | None = None  # (hours before the report, households, night, notes)
    steps: tuple = ()


A, R = CaseParty.Side.APPLICANT, CaseParty.Side.RESPONDENT

# A table, one case a block: the header line reads key, day, hour, source, category, level,
# where, who reports.
# fmt: off
CASES = (
    Spec(
        "lamps", 1, 9.3, Source.DEMAND, Category.ROADS, Whistle.ROUTINE, "g1", "resident",
        "路灯不亮",
        "东头巷口的两盏路灯坏了一个多星期，晚上老人出门看不清路，希望尽快修好。",
        "东头巷口", public=True,
        steps=(
            accept(2),
            start(3, "已联系电工，明天上午来修。"),
            resolve(24, "更换两只灯泡并检修线路，已恢复照明。"),
            confirm(30, 5, "修得很快，谢谢！"),
        ),
    ),
    Spec(
        "rubbish", 2, 10, Source.DEMAND, Category.SANITATION, Whistle.ROUTINE, "g2", "resident",
        "垃圾清运不及时",
        "菜场旁的垃圾收集点连续三天没有清运，垃圾溢到路上，气味很大。",
        "菜场旁垃圾收集点", public=True,
        steps=(
            accept(1),
            start(1.5, "已打电话催保洁公司。"),
            resolve(6, "保洁公司当天下午清运完毕。"),
            confirm(8, 2, "第二天又堆满了，清运次数还是不够。"),
            resolve(30, "与保洁公司重新约定每天早晚各清运一次，并增设两个垃圾桶。"),
            confirm(72, 5, "现在干净多了。"),
        ),
    ),
    Spec(
        "mud_house", 3, 11.5, Source.VISIT, Category.SAFETY, Whistle.PRIORITY, "g1", "grid",
        "危房隐患",
        "走访发现五组一位老人仍住在墙体开裂的土坯房里，雨季有倒塌危险。",
        "五组", visit=(2.5, 15, False, "走访十五户，了解危房、用电和独居老人情况。"),
        steps=(
            accept(1),
            start(2, "已劝老人暂住亲戚家，联系镇里做房屋安全鉴定。"),
            resolve(50, "经鉴定为C级危房，老人已搬进村里的周转房，危房改造已申报。"),
            confirm(56, 4),
        ),
    ),
    Spec(
        "noise", 4, 14, Source.DISPUTE, Category.NEIGHBOURS, Whistle.ROUTINE, "g2", "resident",
        "邻里噪音纠纷",
        "隔壁邻居每天深夜搬东西、放音乐，多次沟通都没有用，家里老人睡不好。",
        parties=((A, "{reporter}"), (R, "刘小龙")),
        steps=(
            accept(3),
            start(5, "网格员晚上上门，分别听取双方意见。"),
            resolve(28, "双方当面沟通，邻居同意晚上十点后不再放音乐，搬东西尽量放在白天。"),
            confirm(50, 4),
        ),
    ),
    Spec(
        "stalls", 5, 9, Source.GRID_REPORT, Category.ORDER, Whistle.PRIORITY, "g1", "grid",
        "占道经营堵塞通道",
        "主路两侧流动摊贩占道经营，早高峰车辆通行困难，校车多次被堵。",
        "主路两侧",
        steps=(
            accept(1),
            whistle(5, DepartmentKind.URBAN, "村里劝离多次无效，请执法队依法处理。"),
            accept(8),
            start(9, "执法队员到现场劝导，划定临时摊点区。"),
            resolve(50, "设置临时疏导摊区，主路两侧不再摆摊，执法队早高峰巡查一周。"),
            confirm(60, 5),
        ),
    ),
    Spec(
        "wages", 6, 9, Source.GRID_REPORT, Category.WAGES, Whistle.DIFFICULT, "g2", "grid",
        "拖欠工资",
        "十二名村民在镇上一处工地干活，包工头拖欠三个月工资约八万元，多次讨要无果，"
        "工人情绪激动。",
        "镇上建筑工地",
        steps=(
            accept(2),
            whistle(4, DepartmentKind.POLICE, "工人扬言堵工地，请派出所先行处置，防止冲突。"),
            accept(6),
            start(7, "民警到工地劝导，工人情绪已稳定。"),
            whistle(
                24,
                DepartmentKind.JUSTICE,
                "经核实不涉及治安案件，属劳动报酬纠纷，转司法所调处，必要时引导申请劳动仲裁。",
            ),
            accept(28),
            start(29, "约谈包工头和项目方，核对考勤和工资表。"),
            resolve(200, "项目方先行垫付拖欠的工资，十二名村民已全部领到工资。"),
            confirm(230, 5, "感谢镇里帮我们要回了工钱。"),
        ),
    ),
    Spec(
        "allowance", 7, 11, Source.DEMAND, Category.WELFARE, Whistle.ROUTINE, "village",
        "resident",
        "残疾人护理补贴未到账",
        "家里老人是二级残疾，已经两个月没收到护理补贴，不知道该找谁问。",
        steps=(
            accept(4),
            whistle(22, DepartmentKind.CIVIL, "需要民政办核查补贴发放名单。"),
            accept(24),
            resolve(70, "经核查是银行卡信息变更后没有同步，已补发两个月的护理补贴。"),
            confirm(80, 5),
        ),
    ),
    Spec(
        "homestead", 8, 16, Source.DISPUTE, Category.LAND, Whistle.DIFFICULT, "g1", "grid",
        "邻里宅基地纠纷",
        "张、李两家因宅基地界址发生争执：李家新砌的围墙占了张家约半米通道，"
        "双方多次争吵，几乎动手。",
        "东头张李两家之间",
        parties=((A, "张建国"), (R, "李德福")),
        steps=(
            accept(2),
            Step(18, "mediator"),
            Step(
                42,
                "session",
                "在调解室第一次调解：双方各自陈述，调解员查看了老地契和宅基地台账。",
            ),
            Step(90, "session", "第二次调解：现场丈量界址，双方同意以老界石为准。"),
            Step(
                92,
                "agreement",
                "调解协议：一、李家在十日内拆除越界的半米围墙，按老界石重新砌墙；"
                "二、两家之间一米宽的通道为共用通道，双方均不得堆放杂物；"
                "三、拆墙重砌的费用由李家承担，张家不再追究；"
                "四、双方今后遇事协商解决，不得争吵打骂。",
                follow_up_days=7,
            ),
            Step(258, "follow_up", "回访：围墙已按老界石重砌，通道畅通，两家关系缓和。"),
            resolve(260, "调解协议已履行，经回访双方无异议。"),
            confirm(266, 5, "多亏调解员，两家又能说上话了。"),
        ),
    ),
    Spec(
        "railing", 9, 8, Source.GRID_REPORT, Category.SAFETY, Whistle.PRIORITY, "g2", "grid",
        "河边护栏缺失",
        "小河边一段护栏被车撞断，孩子上学都从这里经过，有落水危险。",
        "小河边上学路", public=True,
        steps=(
            accept(1),
            start(2, "已拉警戒线，立了警示牌。"),
            resolve(30, "新装护栏二十米，警示牌保留。"),
            confirm(34, 5),
        ),
    ),
    Spec(
        "drain", 10, 10, Source.DEMAND, Category.SANITATION, Whistle.ROUTINE, "g1", "resident",
        "排水沟堵塞污水外溢",
        "路边排水沟堵了，生活污水漫到路面，走路要绕开。",
        "西头路边", public=True,
        steps=(
            # Nobody in the grid took it up within the day: the sweep passes it to the village.
            accept(30),
            start(31, "已安排人手疏通。"),
            resolve(52, "疏通排水沟四十米，加盖水泥盖板。"),
            confirm(70, 4, "通了，就是晚了一天。"),
        ),
    ),
    Spec(
        "alone", 11, 21.5, Source.VISIT, Category.WELFARE, Whistle.ROUTINE, "g2", "grid",
        "留守老人无人照料",
        "夜访发现一位八十多岁的老人独居，子女在外打工，近来行动不便，吃饭成问题。",
        visit=(1.5, 10, True, "平安夜访十户，了解独居老人和留守儿童情况。"),
        steps=(
            accept(0.5),
            start(12, "联系老人子女，登记助餐需求。"),
            resolve(60, "老人已纳入老年助餐名单，邻居每天帮忙送餐，子女每周视频回访。"),
            confirm(62, 5),
        ),
    ),
    Spec(
        "bikes", 12, 9.5, Source.GRID_REPORT, Category.ORDER, Whistle.PRIORITY, "g2", "grid",
        "电动车接连被盗",
        "半个月内连续丢了三辆电动车，村民要求加强巡逻、安装监控。",
        steps=(
            accept(1),
            whistle(3, DepartmentKind.POLICE, "涉及盗窃，需要派出所立案侦查。"),
            accept(5),
            start(6, "民警已调取周边监控，走访失主。"),
            resolve(56, "抓获盗车嫌疑人一名，追回电动车两辆；路口新装两路监控，夜间巡逻加密。"),
            confirm(66, 5),
        ),
    ),
    Spec(
        "elders", 13, 15, Source.DISPUTE, Category.NEIGHBOURS, Whistle.PRIORITY, "g2", "grid",
        "赡养纠纷",
        "一位老人的三个子女因赡养费分摊争执不下，老人生病无人照看。",
        parties=((A, "王桂兰"), (R, "王志强"), (R, "王海燕")),
        steps=(
            accept(2),
            start(4, "约三个子女明天到村委会协商。"),
            resolve(43, "三个子女签订赡养协议，每人每月分担赡养费，轮流照看老人。"),
            confirm(48, 4),
        ),
    ),
    Spec(
        "potholes", 14, 9, Source.DEMAND, Category.ROADS, Whistle.ROUTINE, "village", "resident",
        "道路坑洼积水",
        "村委会到小学的水泥路有几个大坑，下雨积水，骑电动车容易摔。",
        "村委会到小学的路", public=True,
        steps=(
            accept(3),
            start(4, "已查看现场，准备材料。"),
            resolve(30, "用冷补料填补了三处坑洼。"),
            confirm(40, 1, "只补了一半，学校门口那个大坑还在。"),
            resolve(70, "学校门口的大坑已用混凝土浇筑修补，并清理了排水口。"),
            confirm(80, 4, "这回好了。"),
        ),
    ),
    Spec(
        "slope", 15, 10, Source.GRID_REPORT, Category.SAFETY, Whistle.PRIORITY, "g1", "grid",
        "边坡裂缝隐患",
        "后山一处边坡连日降雨后出现裂缝，坡下住着三户人家。",
        "后山边坡", public=True,
        steps=(
            accept(1),
            start(2, "已设置警戒线，通知坡下三户夜间转移。"),
            # Not resolved within three days: the sweep passes it to the township.
            resolve(120, "完成边坡临时支护和截水沟，经勘查已稳定，三户人家已回迁。"),
            confirm(130, 4, "处理得好，就是时间长了点。"),
        ),
    ),
    Spec(
        "parcels", 16, 11, Source.DEMAND, Category.OTHER, Whistle.ROUTINE, "village", "resident",
        "希望设快递代收点",
        "附近没有快递代收点，取快递要跑到镇上，老人很不方便。",
        steps=(
            accept(3),
            start(5, "已与邮政联系设点事宜。"),
            resolve(96, "与邮政合作在便民服务站设立快递代收点，每天下午开放。"),
            confirm(100, 5),
        ),
    ),
    Spec(
        "straw", 17, 14, Source.GRID_REPORT, Category.SANITATION, Whistle.ROUTINE, "g2", "grid",
        "田边焚烧秸秆",
        "田边有人焚烧秸秆，烟很大，离高压线不远。",
        "北边农田", public=True,
        steps=(
            accept(0.2),
            start(0.5, "已到现场劝阻，扑灭余火。"),
            resolve(3, "火已扑灭，向农户宣传秸秆禁烧，秸秆回收由村委会统一登记。"),
            confirm(4, 5),
        ),
    ),
    Spec(
        "helper_pay", 18, 9, Source.DISPUTE, Category.WAGES, Whistle.ROUTINE, "village",
        "resident",
        "帮工工钱纠纷",
        "帮邻居盖房干了二十天，说好的工钱只给了一半，剩下的一直拖着。",
        parties=((A, "{reporter}"), (R, "赵德明")),
        steps=(
            accept(4),
            start(6, "村调委会约双方明天面谈。"),
            resolve(48, "村调委会主持协商，对方当场补付剩余工钱。"),
            confirm(55, 5),
        ),
    ),
    Spec(
        "farmland", 19, 10, Source.GRID_REPORT, Category.LAND, Whistle.PRIORITY, "g1", "grid",
        "占用耕地建房",
        "有村民在基本农田上打地基，准备建房。",
        "南边农田",
        steps=(
            accept(1),
            whistle(3, DepartmentKind.URBAN, "涉嫌违法占用耕地，请执法队现场制止。"),
            accept(5),
            start(6, "执法队到现场下达停工通知。"),
            resolve(50, "已责令停工，地基已拆除，耕地正在复垦；当事人已依法申请宅基地审批。"),
            confirm(60, 4),
        ),
    ),
    Spec(
        "river", 20, 8, Source.GRID_REPORT, Category.SANITATION, Whistle.PRIORITY, "g1", "grid",
        "河道漂浮垃圾",
        "上游漂来大量垃圾，堵在桥洞下，水发臭。",
        "桥洞下", public=True,
        steps=(
            accept(1),
            start(2, "组织保洁员和志愿者打捞。"),
            resolve(30, "打捞垃圾约两吨，已与上游村约定共同清理。"),
            confirm(34, 5),
        ),
    ),
    Spec(
        "bridge", 22, 9, Source.GRID_REPORT, Category.ROADS, Whistle.PRIORITY, "g2", "grid",
        "小桥桥墩开裂",
        "北边小石桥桥墩开裂，护栏松动，农用车每天都从桥上过。",
        "北边小石桥", public=True,
        steps=(
            accept(2),
            # Overdue in the village, then in the township: the sweep takes it up twice.
            note(96, "已限制农用车通行，报县交通部门列入本月危桥维修计划。"),
        ),
    ),
    Spec(
        "manhole", 22, 10, Source.DEMAND, Category.SAFETY, Whistle.ROUTINE, "g1", "resident",
        "井盖缺失",
        "路口一个下水道井盖丢了，晚上很危险。",
        "西头路口", public=True,
        # Resolved, never confirmed: the sweep closes it a week later.
        steps=(accept(1), start(1.5, "已临时围挡。"), resolve(5, "已更换新井盖。")),
    ),
    Spec(
        "land_rent", 24, 11, Source.VISIT, Category.LAND, Whistle.ROUTINE, "village",
        "committee",
        "土地流转租金未按时支付",
        "走访中多户村民反映，合作社流转的土地今年的租金还没有付。",
        visit=(2, 20, False, "干部入户走访二十户，听取对土地流转和村规民约修订的意见。"),
        steps=(
            accept(1),
            start(2, "已约合作社负责人到村委会说明情况。"),
            resolve(72, "合作社已支付一半租金，余款承诺月底前付清，村委会跟踪。"),
            confirm(75, 4),
        ),
    ),
    Spec(
        "fitness", 25, 10, Source.DEMAND, Category.ROADS, Whistle.ROUTINE, "g2", "resident",
        "健身器材损坏",
        "广场上的健身器材有两件螺丝松了，晃得厉害，怕老人受伤。",
        "文化广场", public=True,
        steps=(
            accept(1),
            resolve(26, "已紧固螺丝并更换一件损坏部件。"),
            confirm(30, 5),
        ),
    ),
    Spec(
        "toilet", 26, 15, Source.DEMAND, Category.SANITATION, Whistle.ROUTINE, "g2", "resident",
        "公厕无人打扫",
        "文化广场旁的公厕好几天没人打扫，水龙头也坏了。",
        "文化广场公厕", public=True,
        # Resolved yesterday; the reporter has not rated it yet.
        steps=(
            accept(1),
            start(2, "已通知保洁员。"),
            resolve(20, "安排保洁员每天打扫两次，更换了水龙头。"),
        ),
    ),
    Spec(
        "dogs", 27, 10, Source.GRID_REPORT, Category.OTHER, Whistle.ROUTINE, "g1", "grid",
        "流浪狗追咬路人",
        "路口有几条流浪狗经常追咬路人，已经有孩子被吓哭。",
        "东头路口",
        steps=(accept(1), start(2, "已联系综合执法队协助捕捉，先提醒家长接送孩子。")),
    ),
    Spec(
        "insurance", 28, 16, Source.DEMAND, Category.WELFARE, Whistle.ROUTINE, "village",
        "resident",
        "老人医保缴费需要帮助",
        "家里老人不会用手机缴医保，想请工作人员帮忙办理。",
        steps=(accept(2),),
    ),
    Spec(
        "poultry", 29, 19.5, Source.DISPUTE, Category.NEIGHBOURS, Whistle.ROUTINE, "g2",
        "resident",
        "鸡鸭进菜地纠纷",
        "邻居家养的鸡鸭经常跑进我家菜地，菜被啄坏，说了几次都不听。",
        parties=((A, "{reporter}"), (R, "孙永康")),
    ),
)
# fmt: on
BY_KEY = {spec.key: spec for spec in CASES}

# A community (社区) has no farmland or mud houses: these take the rural cases' places.
COMMUNITY_CASES = {
    "mud_house": dataclasses.replace(
        BY_KEY["mud_house"],
        title="老楼外墙瓷砖脱落",
        visit=(2.5, 15, False, "走访十五户，了解老楼安全、用电和独居老人情况。"),
        description="走访发现一栋老楼外墙瓷砖大片空鼓，已有碎片掉落，楼下是小区主通道。",
        place="老楼主通道",
        steps=(
            accept(1),
            start(2, "已在楼下拉警戒线，绕行通道。"),
            resolve(50, "请施工队清除空鼓瓷砖并做防护网，维修资金已申请。"),
            confirm(56, 4),
        ),
    ),
    "straw": dataclasses.replace(
        BY_KEY["straw"],
        title="餐馆油烟扰民",
        description="沿街一家餐馆的油烟直排，楼上住户窗户都不敢开。",
        place="沿街餐馆",
        steps=(
            accept(0.2),
            start(0.5, "已上门提醒店主。"),
            resolve(3, "店主已清洗并加装油烟净化器，承诺定期清洗。"),
            confirm(4, 5),
        ),
    ),
    "farmland": dataclasses.replace(
        BY_KEY["farmland"],
        title="楼顶私搭违建",
        description="有住户在楼顶私自搭建彩钢房，影响楼顶防水，邻居担心安全。",
        place="楼顶",
        steps=(
            accept(1),
            whistle(3, DepartmentKind.URBAN, "涉嫌违法搭建，请执法队现场处置。"),
            accept(5),
            start(6, "执法队到现场下达限期拆除通知。"),
            resolve(50, "违建彩钢房已拆除，楼顶防水已修复。"),
            confirm(60, 4),
        ),
    ),
    "homestead": dataclasses.replace(
        BY_KEY["homestead"],
        title="邻里占用公共通道纠纷",
        description="一楼张家在楼前空地砌了花坛，占了楼道出口约半米，与楼上李家多次争吵，"
        "几乎动手。",
        place="楼前空地",
        steps=(
            accept(2),
            Step(18, "mediator"),
            Step(42, "session", "第一次调解：双方各自陈述，调解员查看了小区规划图。"),
            Step(90, "session", "第二次调解：现场丈量，双方同意按规划恢复通道宽度。"),
            Step(
                92,
                "agreement",
                "调解协议：一、张家在十日内拆除占道的半米花坛；二、楼前通道为公共通道，"
                "双方均不得堆放杂物；三、拆除费用由张家承担，李家不再追究；"
                "四、双方今后遇事协商解决，不得争吵打骂。",
                follow_up_days=7,
            ),
            Step(258, "follow_up", "回访：花坛已拆除，通道畅通，两家关系缓和。"),
            resolve(260, "调解协议已履行，经回访双方无异议。"),
            confirm(266, 5, "多亏调解员，两家又能说上话了。"),
        ),
    ),
    "land_rent": dataclasses.replace(
        BY_KEY["land_rent"],
        title="老旧小区加装电梯意见不一",
        visit=(2, 20, False, "干部入户走访二十户，听取对加装电梯和居民公约修订的意见。"),
        description="走访中老楼住户反映，加装电梯的事高层和低层住户意见不一，拖了一年。",
        steps=(
            accept(1),
            start(2, "已约各楼层住户代表到居委会座谈。"),
            resolve(72, "住户代表协商出分摊方案，已有三分之二住户签字同意，报街道审批。"),
            confirm(75, 4),
        ),
    ),
    "poultry": dataclasses.replace(
        BY_KEY["poultry"],
        title="楼上漏水纠纷",
        description="楼上卫生间漏水到我家天花板，楼上住户不肯维修。",
    ),
}
# Words that differ in a community.
COMMUNITY_WORDS = (
    ("村委会", "居委会"),
    ("村调委会", "社区调委会"),
    ("村民", "居民"),
    ("村里", "社区里"),
    ("上游村", "上游社区"),
    ("农用车", "车辆"),
)


def _for_community(spec: Spec) -> Spec:
    spec = COMMUNITY_CASES.get(spec.key, spec)

    def say(text):
        for rural, urban in COMMUNITY_WORDS:
            text = text.replace(rural, urban)
        return text

    return dataclasses.replace(
        spec,
        title=say(spec.title),
        description=say(spec.description),
        place=say(spec.place),
        visit=spec.visit and (*spec.visit[:3], say(spec.visit[3])),
        steps=tuple(dataclasses.replace(step, text=say(step.text)) for step in spec.steps),
    )


# -- people ----------------------------------------------------------------------------------------


def _verified(council, role):
    return [
        m.user
        for m in Membership.objects.filter(
            council=council, role=role, status=MembershipStatus.VERIFIED
        )
        .select_related("user")
        .order_by("pk")
    ]


def _demo_person(people: DemoBuilder, number: int, real_name: str, display_name: str):
    """A demo person with a phone number of its own, found again by it on the next run."""
    people.phone_counter = number - 1
    return people.person(real_name=real_name, display_name=display_name)


def _name(rng) -> str:
    return rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES)


def _grid_worker(people: DemoBuilder, grid):
    found = _verified(grid, Role.GRID_WORKER)
    if found:
        return found[0]
    worker = _demo_person(
        people, GRID_WORKER_PHONES + grid.pk, _name(random.Random(grid.pk)), "网格员"
    )
    people.member(worker, grid, Role.GRID_WORKER)
    return worker


def _departments(people: DemoBuilder, township, official) -> dict:
    """The township's four departments, each with a demo member (made once)."""
    rng = random.Random(township.pk)
    found = {}
    for place, (suffix, kind, title) in enumerate(DEPARTMENTS):
        name = f"{township.title}{suffix}"
        department = Department.objects.filter(council=township, name=name).first()
        if department is None:
            department = services.register_department(
                user=official, council=township, name=name, kind=kind
            )
        if not DepartmentMember.objects.filter(department=department).exists():
            member = _demo_person(
                people,
                DEPARTMENT_PHONES + township.pk * 10 + place,
                _name(rng),
                f"{suffix}{title}",
            )
            services.add_department_member(user=official, department=department, member=member)
        found[kind] = department
    return found


def _level_rules(township, official) -> None:
    if LevelRule.objects.filter(township=township).exists():
        return
    for level, tier, inform, accept_hours, resolve_days in LEVEL_RULES:
        services.set_level_rule(
            user=official,
            township=township,
            level=level,
            tier=tier,
            inform_township=inform,
            accept_hours=accept_hours,
            resolve_days=resolve_days,
        )


def _mediator(people: DemoBuilder, village, township, justice):
    """A member of a council of rural worthies under the village or its township (one is made
    when the council has nobody yet); without such a council, the justice office's mediator."""
    worthies = (
        CouncilPage.objects.filter(level=Level.WORTHIES)
        .filter(path__startswith=village.path, depth=village.depth + 1)
        .order_by("path")
        .first()
    ) or (
        CouncilPage.objects.filter(level=Level.WORTHIES)
        .filter(path__startswith=township.path, depth=township.depth + 1)
        .order_by("path")
        .first()
    )
    if worthies is None:
        member = DepartmentMember.objects.filter(department=justice).order_by("pk").first()
        return member.user, None
    found = [
        m.user
        for m in Membership.objects.filter(council=worthies, status=MembershipStatus.VERIFIED)
        .select_related("user")
        .order_by("pk")
    ]
    if found:
        return found[0], worthies
    rng = random.Random(worthies.pk)
    real_name = _name(rng)
    worthy = _demo_person(people, WORTHY_PHONES + worthies.pk, real_name, f"{real_name[0]}老先生")
    people.member(worthy, worthies, Role.RESIDENT)
    return worthy, worthies


# -- the month -------------------------------------------------------------------------------------


class Month:
    """Plays the specs' steps and the reaper's sweeps in the order of their moments."""

    def __init__(self, *, village, grids, residents, committee, officials, departments, mediator):
        self.village = village
        self.grids = grids  # {"g1": (grid, worker), "g2": (grid, worker)}
        self.residents = residents
        self.committee = committee
        self.officials = officials  # the township's, then the city's
        self.departments = departments
        self.mediator, self.mediator_council = mediator
        self.next_resident = 0
        self.made = 0

    def play(self, specs, *, end) -> int:
        base = timezone.make_aware(
            datetime.datetime.combine(
                timezone.localdate(end) - datetime.timedelta(days=DAYS), datetime.time()
            )
        )
        timeline = []
        for index, spec in enumerate(specs):
            reported = base + datetime.timedelta(days=spec.day, hours=spec.hour)
            held = {}
            timeline.append((reported, index, 0, partial(self.report, spec, held)))
            for number, step in enumerate(spec.steps, 1):
                at = reported + datetime.timedelta(hours=step.hours)
                timeline.append((at, index, number, partial(self.step, step, held)))
        at = base
        while at <= end:
            timeline.append((at, -1, 0, self.sweep))
            at += SWEEP_EVERY
        timeline.append((end, -1, 0, self.sweep))
        timeline.sort(key=lambda item: item[:3])
        for at, _index, _number, act in timeline:
            if at <= end:
                act(at)
        return self.made

    @staticmethod
    def sweep(at) -> None:
        services.escalate_overdue(now=at)
        services.close_unconfirmed(now=at)

    def _reporter(self, spec):
        _council, worker = self.grids.get(spec.where, self.grids["g1"])
        if spec.by == "grid":
            return worker
        if spec.by == "committee":
            return self.committee[0]
        resident = self.residents[self.next_resident % len(self.residents)]
        self.next_resident += 1
        return resident

    def report(self, spec, held, at) -> None:
        council = self.village if spec.where == "village" else self.grids[spec.where][0]
        reporter = self._reporter(spec)
        visit = None
        if spec.visit is not None:
            before, households, night, notes = spec.visit
            visited = at - datetime.timedelta(hours=before)
            visit = services.log_visit(
                visitor=reporter,
                council=council,
                households=households,
                night=night,
                notes=notes,
                visited_on=timezone.localdate(visited),
                now=visited,
            )
        parties = [
            (side, reporter.real_name if name == "{reporter}" else name)
            for side, name in spec.parties
        ]
        case = services.report_case(
            reporter=reporter,
            council=council,
            source=spec.source,
            category=spec.category,
            level=spec.level,
            title=spec.title,
            description=spec.description,
            place=spec.place,
            public=spec.public,
            parties=parties,
            visit=visit,
            now=at,
        )
        held["case"] = case.pk
        self.made += 1

    def _handler(self, case):
        """Who handles the case now: the department's member, the grid's worker, the committee,
        an official of the township (or of the city, once it climbed above). The services check
        that they may."""
        if case.department_id is not None:
            return (
                DepartmentMember.objects.filter(department_id=case.department_id)
                .select_related("user")
                .order_by("pk")
                .first()
                .user
            )
        level = case.handler_council.level
        if level == Level.GRID:
            for grid, worker in self.grids.values():
                if grid.pk == case.handler_council_id:
                    return worker
        if level in (Level.GRID, Level.VILLAGE):
            return self.committee[0]
        if level == Level.TOWNSHIP:
            return self.officials[0]
        return self.officials[-1]

    def step(self, step, held, at) -> None:
        if "case" not in held:
            return
        case = Case.objects.select_related("handler_council", "council", "township").get(
            pk=held["case"]
        )
        if step.do == "confirm":
            services.confirm_case(
                user=case.reporter, case=case, satisfaction=step.rating, comment=step.text, now=at
            )
        elif step.do == "whistle":
            services.whistle_case(
                user=self.officials[0],
                case=case,
                department=self.departments[step.department],
                reason=step.text,
                now=at,
            )
        elif step.do in ("session", "agreement", "follow_up"):
            self.mediate(step, case, at)
        else:
            user = self._handler(case)
            if step.do == "accept":
                services.accept_case(user=user, case=case, now=at)
            elif step.do == "start":
                services.start_case(user=user, case=case, text=step.text, now=at)
            elif step.do == "note":
                services.add_note(user=user, case=case, text=step.text, now=at)
            elif step.do == "resolve":
                services.resolve_case(user=user, case=case, outcome=step.text, now=at)
            elif step.do == "mediator":
                services.name_mediator(
                    user=user,
                    case=case,
                    mediator=self.mediator,
                    mediator_council=self.mediator_council,
                    now=at,
                )
            else:
                raise ValueError(step.do)

    def mediate(self, step, case, at) -> None:
        if step.do == "session":
            services.record_mediation_session(
                user=self.mediator, case=case, text=step.text, held_at=at, now=at
            )
        elif step.do == "agreement":
            services.record_agreement(
                user=self.mediator,
                case=case,
                agreement=step.text,
                follow_up_on=timezone.localdate(at) + datetime.timedelta(days=step.follow_up_days),
                now=at,
            )
        else:
            services.record_follow_up(user=self.mediator, case=case, text=step.text, now=at)


def _no_texts_for_the_past(village) -> None:
    """The month is history: its SMS would have gone out at the time, not a month's worth at
    once when the demo starts (burying the sign-in codes on the console). The inbox keeps every
    notification; the deliveries still waiting are not sent."""
    urls = [case_url(case) for case in Case.objects.in_subtree(village).only("pk")]
    Delivery.objects.filter(
        status=DeliveryStatus.PENDING,
        notification__kind=Kind.CASE_UPDATED,
        notification__url__in=urls,
    ).update(status=DeliveryStatus.SKIPPED, reason="demo: a past event")


def _build_figures(village) -> None:
    """The closure figures, at once: the reaper's sweep rebuilds only what changed since its
    last build, and the demo's steps are dated in the past. Everything when nothing was ever
    built (so the sweep's first build is not skipped for other councils' cases)."""
    if not CaseFigure.objects.exists():
        figures.rebuild()
        return
    where = Case.objects.in_subtree(village).order_by().values_list("council_id", flat=True)
    figures.rebuild(councils=sorted(set(where)))


def _escalate_a_topic(village, committee) -> int:
    """The committee takes a hall topic that the village cannot meet alone up to the township
    (now: the demo's topics were raised just now)."""
    topics = Topic.objects.filter(
        hall__council=village,
        status__in=DISCUSSABLE_STATUSES,
        official_answer="",
        cases__isnull=True,
    ).order_by("pk")
    topic = topics.filter(title__contains="助餐").first() or topics.first()
    if topic is None:
        return 0
    services.escalate_topic(
        user=committee, topic=topic, level=Whistle.DIFFICULT, category=Category.WELFARE
    )
    return 1


def _whole_month(village) -> bool:
    if village.slug not in DEMO_VILLAGES:
        return True
    first = CouncilPage.objects.filter(slug__in=DEMO_VILLAGES).order_by("path")
    return village.pk in first.values_list("pk", flat=True)[:WHOLE_MONTH_VILLAGES]


@transaction.atomic
def build(village) -> int:
    if Case.objects.in_subtree(village).exists():
        return 0
    township = services.township_of(village)
    officials = _verified(township, Role.OFFICIAL)
    committee = _verified(village, Role.COMMITTEE)
    if not officials or not committee:
        return 0
    staff = {user.pk for user in committee}
    residents = [user for user in _verified(village, Role.RESIDENT) if user.pk not in staff]
    if not residents:
        return 0
    for city in CouncilPage.objects.filter(level=Level.CITY, path__in=village.ancestor_paths()):
        officials += _verified(city, Role.OFFICIAL)
    people = DemoBuilder()
    grid_pages = list(
        CouncilPage.objects.filter(
            level=Level.GRID, path__startswith=village.path, depth=village.depth + 1
        ).order_by("path")[:2]
    )
    if grid_pages:
        first = (grid_pages[0], _grid_worker(people, grid_pages[0]))
        second = (grid_pages[-1], _grid_worker(people, grid_pages[-1]))
    else:  # a village without grids: its committee does the grid worker's rounds
        first = second = (village, committee[0])
    departments = _departments(people, township, officials[0])
    _level_rules(township, officials[0])
    month = Month(
        village=village,
        grids={"g1": first, "g2": second},
        residents=residents,
        committee=committee,
        officials=officials,
        departments=departments,
        mediator=_mediator(people, village, township, departments[DepartmentKind.JUSTICE]),
    )
    specs = CASES if _whole_month(village) else [s for s in CASES if s.day >= LATE_DAYS_FROM]
    if village.title.endswith("社区"):
        specs = [_for_community(spec) for spec in specs]
    made = month.play(specs, end=timezone.now())
    _no_texts_for_the_past(village)
    made += _escalate_a_topic(village, committee[0])
    _build_figures(village)
    return made
