import pytest

from cases import services
from cases.models import Category, Source, Whistle
from councils.models import Role
from tests.conftest import isolate_cache_and_layer
from tests.councils.factories import member


@pytest.fixture(autouse=True)
def _isolated_cache_and_layer(settings, request):
    isolate_cache_and_layer(settings, request)


@pytest.fixture
def people(tree):
    """One person per role around the grid of make_tree(): who reports, handles and watches."""
    grid, village, township = tree["grid"], tree["village"], tree["township"]
    grid_worker = member(grid, Role.GRID_WORKER)
    committee = member(village, Role.COMMITTEE)
    official = member(township, Role.OFFICIAL)
    resident = member(village)
    return {
        "grid_worker": grid_worker,
        "committee": committee,
        "official": official,
        "resident": resident,
        "neighbour": member(village),
        "supervisor": member(village, Role.SUPERVISOR),
        "representative": member(village, Role.REPRESENTATIVE),
        "other_official": member(tree["other_township"], Role.OFFICIAL),
        "other_committee": member(tree["other_village"], Role.COMMITTEE),
        "district_official": member(tree["district"], Role.OFFICIAL),
    }


def grid_report(tree, people, *, level=Whistle.ROUTINE, category=Category.ROADS, **kwargs):
    return services.report_case(
        reporter=kwargs.pop("reporter", people["grid_worker"]),
        council=kwargs.pop("council", tree["grid"]),
        source=kwargs.pop("source", Source.GRID_REPORT),
        category=category,
        level=level,
        title=kwargs.pop("title", "路灯不亮"),
        description=kwargs.pop("description", "村口第三根路灯坏了一周"),
        place=kwargs.pop("place", "村口"),
        public=kwargs.pop("public", True),
        **kwargs,
    )
