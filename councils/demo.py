"""The demo city: councils, households and people of every role, built idempotently.

Everything is keyed by a stable slug or phone number, so running it twice changes nothing.
The city is fictional; the names are common Chinese names drawn with a fixed seed.
"""

import random
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.db import transaction
from wagtail.models import Page, Site

from core.models import User
from councils.models import CouncilPage, Household, Level, Membership, MembershipStatus, Role
from councils.services import grant_role

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余于杜叶程魏"
    "苏吕丁任卢姚沈钟姜崔谭陆范汪廖石金韦贾夏付方邹熊白孟秦邱侯江尹薛段雷龙黎史陶贺毛郝顾龚邵"
)
GIVEN_NAMES = (
    "建国 秀英 桂兰 志强 丽华 海燕 春梅 国庆 明 伟 芳 娜 敏 静 强 磊 军 洋 勇 艳 杰 涛 超 "
    "秀兰 玉兰 凤英 德福 永康 金花 小红 子涵 浩然 梓萱 文斌 淑珍 德明 春生 秋菊 冬梅 振华 "
    "红霞 建军 雪梅 家豪 晓东 美玲 长林 宝山 月娥 福生 丽娟 小龙 思远 佳怡 俊杰 玉珍"
).split()


@dataclass
class Village:
    slug: str
    name: str
    level: str = Level.VILLAGE
    grids: int = 2
    specials: list[str] = field(default_factory=list)


CITY = ("qingshan", "青山市", "一座虚构的城市，用来演示议事平台：区县、乡镇街道、村社区和网格。")
DISTRICTS = [
    (
        "jiangbei",
        "江北区",
        [
            (
                "chengguan",
                "城关街道",
                [
                    Village("heping", "和平社区", grids=3),
                    Village("xinhua", "新华社区", grids=3, specials=[Level.CHILDREN]),
                    Village("dongmen", "东门社区"),
                    Village("nanhu", "南湖社区"),
                ],
            ),
            (
                "baisha",
                "白沙镇",
                [
                    Village("baisha-v", "白沙村"),
                    Village("liushu", "柳树村", specials=[Level.WORTHIES]),
                    Village("shiqiao", "石桥村"),
                    Village("xiajia", "夏家村"),
                ],
            ),
        ],
    ),
    (
        "yunxi",
        "云溪县",
        [
            (
                "taoyuan",
                "桃源镇",
                [
                    Village("taoyuan-v", "桃源村", specials=[Level.WORTHIES, Level.CHILDREN]),
                    Village("lijiawan", "李家湾村"),
                    Village("zhuyuan", "竹园村"),
                    Village("shangtang", "上塘村"),
                ],
            ),
            (
                "qinglong",
                "青龙乡",
                [
                    Village("qinglong-v", "青龙村"),
                    Village("huangtu", "黄土坡村"),
                    Village("meiling", "梅岭村"),
                ],
            ),
            (
                "xiyuan",
                "西苑街道",
                [
                    Village("xiyuan-c", "西苑社区", grids=3),
                    Village("guangming", "光明社区"),
                    Village("jinqiao", "金桥社区"),
                    Village("fengle", "丰乐社区"),
                    Village("yangguang", "阳光社区"),
                ],
            ),
        ],
    ),
]
# The villages that get halls, budgets, ledgers and meetings from the apps' demo builders.
DEMO_VILLAGES = ("liushu", "heping", "taoyuan-v")

SPECIAL_NAMES = {
    Level.WORTHIES: ("新乡贤参事会", Level.WORTHIES),
    Level.CHILDREN: ("儿童议事会", Level.CHILDREN),
}


class DemoBuilder:
    def __init__(self, *, households_per_village: int = 8, seed: int = 2026):
        self.rng = random.Random(seed)
        self.households_per_village = households_per_village
        self.phone_counter = 0
        self.created = {"councils": 0, "users": 0, "memberships": 0}
        # Demo people sign in by SMS code, like everyone; no password.
        self.password_hash = make_password(None)

    # -- helpers ---------------------------------------------------------------------------
    def council(self, parent, slug: str, title: str, level: str, intro: str = "") -> CouncilPage:
        existing = CouncilPage.objects.child_of(parent).filter(slug=slug).first()
        if existing:
            return existing
        page = CouncilPage(title=title, slug=slug, level=level, intro=intro)
        parent.add_child(instance=page)
        self.created["councils"] += 1
        return page

    def person(self, *, real_name: str | None = None, display_name: str | None = None) -> User:
        self.phone_counter += 1
        phone = f"139{self.phone_counter:08d}"
        real_name = real_name or self.rng.choice(SURNAMES) + self.rng.choice(GIVEN_NAMES)
        user = User.objects.filter(phone=phone).first()
        if user:
            return user
        user = User.objects.create(
            username=phone,
            phone=phone,
            phone_verified=True,
            real_name=real_name,
            display_name=display_name if display_name is not None else real_name[0] + "大伯",
            password=self.password_hash,
        )
        self.created["users"] += 1
        return user

    def member(self, user, council, role, household=None) -> None:
        if Membership.objects.filter(
            user=user, council=council, role=role, status=MembershipStatus.VERIFIED
        ).exists():
            return
        membership = grant_role(user=user, council=council, role=role)
        if household is not None:
            Membership.objects.filter(pk=membership.pk).update(household=household)
        self.created["memberships"] += 1

    @staticmethod
    def site_root():
        """The default site's root page (home.HomePage), found through Wagtail: the spine does
        not import the home app."""
        site = Site.objects.filter(is_default_site=True).select_related("root_page").first()
        if site is not None and site.root_page.depth > 1:
            return site.root_page
        return Page.objects.filter(depth=2).order_by("path").first()

    # -- the city ----------------------------------------------------------------------------
    @transaction.atomic
    def build(self) -> dict:
        home = self.site_root()
        if home is None:
            raise RuntimeError("No home page: run migrations first.")
        slug, name, intro = CITY
        city = self.council(home, slug, name, Level.CITY, intro)
        self.member(
            self.person(real_name="周市民", display_name="市民政局周科长"), city, Role.OFFICIAL
        )
        for d_slug, d_name, townships in DISTRICTS:
            district = self.council(city, d_slug, d_name, Level.DISTRICT)
            for t_slug, t_name, villages in townships:
                township = self.council(district, t_slug, t_name, Level.TOWNSHIP)
                official = self.person()
                official.display_name = f"{t_name}干部"
                official.save(update_fields=["display_name"])
                self.member(official, township, Role.OFFICIAL)
                for village in villages:
                    self.build_village(township, village)
        return self.created

    def build_village(self, township, spec: Village) -> None:
        village = self.council(
            township,
            spec.slug,
            spec.name,
            spec.level,
            f"{spec.name}位于{township.title}，欢迎村（居）民加入，一起议事。",
        )
        grids = [
            self.council(village, f"{spec.slug}-g{i}", f"第{i}网格", Level.GRID)
            for i in range(1, spec.grids + 1)
        ]
        for special in spec.specials:
            title, level = SPECIAL_NAMES[special]
            self.council(village, f"{spec.slug}-{special}", f"{spec.name}{title}", level)
        # The committee, the supervisors and the representatives are residents too.
        committee = [self.person() for _ in range(3)]
        supervisors = [self.person() for _ in range(2)]
        representatives = [self.person() for _ in range(3)]
        households = []
        for number in range(1, self.households_per_village + 1):
            household, _ = Household.objects.get_or_create(
                council=village, number=f"{(number - 1) // 4 + 1}组{number}号"
            )
            households.append(household)
        people = committee + supervisors + representatives
        while len(people) < self.households_per_village * 2:
            people.append(self.person())
        for index, user in enumerate(people):
            household = households[index % len(households)]
            self.member(user, village, Role.RESIDENT, household)
            if household.head_id is None:
                Household.objects.filter(pk=household.pk).update(head=user)
                household.head = user
        for user in committee:
            self.member(user, village, Role.COMMITTEE)
        for user in supervisors:
            self.member(user, village, Role.SUPERVISOR)
        for index, user in enumerate(representatives):
            self.member(user, village, Role.REPRESENTATIVE)
            Household.objects.filter(
                pk__in=[h.pk for h in households[index :: len(representatives)]]
            ).update(representative=user)
        for grid in grids:
            self.member(self.person(), grid, Role.GRID_WORKER)
        # One applicant waiting for the committee, so the verification queue is not empty.
        applicant = self.person()
        if not Membership.objects.filter(user=applicant, council=village).exists():
            Membership.objects.create(
                user=applicant,
                council=village,
                role=Role.RESIDENT,
                house_number=f"{len(households) // 4 + 1}组{len(households) + 1}号",
                message="刚搬来，请核实。",
            )
