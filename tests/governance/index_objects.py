"""Shared state of the index tests: the people around make_tree()'s village and an index of the
township, built with the real services. Also what the fuzz targets and the HTTP permission
matrix need (built lazily, once per world)."""

import datetime
from decimal import Decimal

from django.utils import timezone

from councils.models import Role
from governance import services
from governance.index import period_start_of
from governance.models import PeriodKind
from tests.councils.factories import member

LINK = "https://example.org/zhen/2025/stars.pdf"


def people(tree) -> dict:
    village, township = tree["village"], tree["township"]

    def villager(role=None):
        user = member(village)
        if role:
            member(village, role, user=user)
        return user

    return {
        "official": member(township, Role.OFFICIAL),
        "district_official": member(tree["district"], Role.OFFICIAL),
        "other_official": member(tree["other_township"], Role.OFFICIAL),
        "village_official": member(village, Role.OFFICIAL),
        "committee": villager(Role.COMMITTEE),
        "supervisor": villager(Role.SUPERVISOR),
        "representative": villager(Role.REPRESENTATIVE),
        "resident": villager(),
        "other_resident": member(tree["other_village"]),
        "grid_worker": member(tree["grid"], Role.GRID_WORKER),
    }


def last_month() -> datetime.date:
    return period_start_of(
        PeriodKind.MONTH, timezone.localdate().replace(day=1) - datetime.timedelta(days=1)
    )


def ruian_index(tree, official):
    return services.create_index(owner=tree["township"], name="强基善治指数", by=official)


def figure(index, council, official, *, code="party-stars", value="4", publish=False, **kwargs):
    made = services.enter_figure(
        index=index,
        code=code,
        council=council,
        period_kind=kwargs.pop("period_kind", PeriodKind.MONTH),
        period_start=kwargs.pop("period_start", last_month()),
        value=Decimal(value),
        evidence_url=kwargs.pop("evidence_url", LINK),
        by=official,
        **kwargs,
    )
    if publish:
        made = services.publish_figure(figure=made, by=official)
    return made


def pdf_bytes() -> bytes:
    return b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


# -- for tests/fuzz/targets.py and tests/security/matrix.py ---------------------------------------


def fuzz_objects(world) -> dict:
    """The index objects of a fuzz world (tests.fuzz.world), made on first use."""
    objects = world.objects
    if "gov_index" not in objects:
        official = world.people["official"]
        index = ruian_index(world.tree, official)
        objects["gov_index"] = index
        objects["gov_draft"] = services.start_version(index=index, by=official)
        objects["gov_figure"] = figure(index, world.tree["village"], official)
        objects["gov_published_figure"] = figure(
            index, world.tree["village"], official, code="environment", value="80", publish=True
        )
    return objects


def matrix_objects(world) -> dict:
    """The index objects of the HTTP permission matrix's world (tests.security.world)."""
    if "_governance" not in world.__dict__:
        official = world.people["official"]
        index = ruian_index(world.tree, official)
        world.__dict__["_governance"] = {
            "index": index,
            "draft": services.start_version(index=index, by=official),
            "figure": figure(index, world.village, official),
            "published_figure": figure(
                index, world.village, official, code="environment", value="80", publish=True
            ),
        }
    return world.__dict__["_governance"]
