"""Factories for people and councils. Pages are added through the tree, as Wagtail needs."""

import itertools

import factory

from core.models import User
from councils.models import CouncilPage, Level, Membership, MembershipStatus, Role
from home.models import HomePage

_phones = itertools.count(1)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    phone = factory.LazyFunction(lambda: f"137{next(_phones):08d}")
    username = factory.SelfAttribute("phone")
    phone_verified = True
    display_name = factory.Sequence(lambda n: f"居民{n}")
    real_name = factory.Sequence(lambda n: f"张{n}号")


def home_page() -> HomePage:
    """The site's home page; rebuilt when a transactional test's flush removed the migration's."""
    home = HomePage.objects.first()
    if home is None:
        from django.contrib.contenttypes.models import ContentType
        from wagtail.models import Locale, Page, Site

        ContentType.objects.clear_cache()  # a flush recreated the content types

        for code in ("zh-hans", "en"):
            Locale.objects.get_or_create(language_code=code)
        root = Page.get_first_root_node() or Page.add_root(title="Root", slug="root")
        home = root.add_child(instance=HomePage(title="议事", slug="home"))
        Site.objects.update_or_create(
            is_default_site=True, defaults={"hostname": "localhost", "root_page": home}
        )
    return home


def make_council(parent=None, *, level: str, title: str | None = None) -> CouncilPage:
    parent = parent or home_page()
    page = CouncilPage(
        title=title or f"{Level(level).label} {CouncilPage.objects.count() + 1}",
        slug=f"{level}-{CouncilPage.objects.count() + 1}-{next(_phones)}",
        level=level,
    )
    parent.add_child(instance=page)
    return page


def make_tree() -> dict[str, CouncilPage]:
    """city > district > township > village > grid, plus a second village and township."""
    city = make_council(level=Level.CITY, title="青山市")
    district = make_council(city, level=Level.DISTRICT, title="江北区")
    township = make_council(district, level=Level.TOWNSHIP, title="白沙镇")
    village = make_council(township, level=Level.VILLAGE, title="柳树村")
    grid = make_council(village, level=Level.GRID, title="第1网格")
    other_village = make_council(township, level=Level.VILLAGE, title="石桥村")
    other_township = make_council(district, level=Level.TOWNSHIP, title="桃源镇")
    far_village = make_council(other_township, level=Level.VILLAGE, title="桃源村")
    return {
        "city": city,
        "district": district,
        "township": township,
        "village": village,
        "grid": grid,
        "other_village": other_village,
        "other_township": other_township,
        "far_village": far_village,
    }


def member(council, role=Role.RESIDENT, *, user=None, status=MembershipStatus.VERIFIED):
    user = user or UserFactory()
    Membership.objects.create(user=user, council=council, role=role, status=status)
    return user
