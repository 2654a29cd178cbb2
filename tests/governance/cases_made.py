"""Cases made through cases.services for the screen's tests (a grid worker reports, the
village's committee handles, the grid worker confirms)."""

from cases import services
from cases.models import Category, Source, Whistle
from councils.models import Role
from tests.councils.factories import member


def case_people(tree) -> dict:
    return {
        "grid_worker": member(tree["grid"], Role.GRID_WORKER),
        "committee": member(tree["village"], Role.COMMITTEE),
    }


def report(tree, people, *, title="路灯不亮", public=False):
    return services.report_case(
        reporter=people["grid_worker"],
        council=tree["grid"],
        source=Source.GRID_REPORT,
        category=Category.ROADS,
        level=Whistle.ROUTINE,
        title=title,
        description="村口第三根路灯坏了一周",
        place="村口",
        public=public,
    )


def close(case, people):
    """Accept, resolve and confirm: the case is closed."""
    case = services.accept_case(user=people["committee"], case=case)
    case = services.resolve_case(user=people["committee"], case=case, outcome="修好了")
    return services.confirm_case(user=people["grid_worker"], case=case, satisfaction=5)
