"""Cases in each state, for the permission table (docs/permissions.md, "Cases")."""

from cases import services
from cases.models import Category, DepartmentKind, Source, Whistle


def permission_objects(tree, persons) -> dict:
    """`persons` are the table's columns (tests/councils/test_permissions_table.py)."""
    grid, village, township = tree["grid"], tree["village"], tree["township"]
    official = persons["official"]

    def report(reporter, council, source, **kwargs):
        return services.report_case(
            reporter=reporter,
            council=council,
            source=source,
            category=kwargs.pop("category", Category.ROADS),
            level=kwargs.pop("level", Whistle.ROUTINE),
            title=kwargs.pop("title", "路灯不亮"),
            description="村口第三根路灯坏了",
            **kwargs,
        )

    public_case = report(persons["grid_worker"], grid, Source.GRID_REPORT, public=True)
    private_demand = report(
        persons["resident"], village, Source.DEMAND, category=Category.WELFARE, title="低保申请"
    )
    dispute = report(
        persons["resident"],
        grid,
        Source.DISPUTE,
        category=Category.NEIGHBOURS,
        title="宅基地纠纷",
        parties=[("applicant", "王小英"), ("respondent", "李大山")],
    )
    party = dispute.parties.get(name="李大山")
    party.user = persons["representative"]
    party.save()
    department = services.register_department(
        user=official, council=township, name="司法所", kind=DepartmentKind.JUSTICE
    )
    whistled = report(persons["grid_worker"], grid, Source.GRID_REPORT, level=Whistle.DIFFICULT)
    whistled = services.whistle_case(user=official, case=whistled, department=department, reason="")
    closed = report(persons["grid_worker"], grid, Source.GRID_REPORT, public=True)
    services.accept_case(user=persons["committee"], case=closed)
    services.resolve_case(user=persons["committee"], case=closed, outcome="修好了")
    closed = services.confirm_case(user=persons["grid_worker"], case=closed, satisfaction=5)
    return {
        "public_case": public_case,
        "private_demand": private_demand,
        "dispute": dispute,
        "whistled_case": whistled,
        "closed_case": closed,
    }
