import datetime

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from cases import services
from cases.models import Case, CaseEvent, EventKind, Status, Whistle
from tests.cases.conftest import grid_report

pytestmark = pytest.mark.django_db


def test_routine_report_is_handled_in_the_grid_with_the_default_deadlines(tree, people):
    now = timezone.now()
    case = grid_report(tree, people, now=now)
    assert case.handler_council == tree["grid"]
    assert case.township == tree["township"]
    assert case.status == Status.REPORTED
    assert case.accept_due == now + datetime.timedelta(hours=24)
    assert case.resolve_due == now + datetime.timedelta(days=7)
    assert list(case.events.values_list("kind", flat=True)) == [EventKind.REPORTED]


def test_full_life_to_closure(tree, people):
    case = grid_report(tree, people, level=Whistle.DIFFICULT)
    assert case.handler_council == tree["township"]
    services.accept_case(user=people["official"], case=case)
    services.start_case(user=people["official"], case=case)
    services.resolve_case(user=people["official"], case=case, outcome="换了灯泡")
    case = services.confirm_case(user=people["grid_worker"], case=case, satisfaction=5)
    assert case.status == Status.CLOSED
    assert case.on_time is True
    kinds = list(CaseEvent.objects.filter(case=case).values_list("kind", flat=True))
    assert kinds == ["reported", "accepted", "started", "resolved", "confirmed", "closed"]


def test_resident_cannot_accept_a_case(tree, people):
    case = grid_report(tree, people)
    with pytest.raises(PermissionDenied):
        services.accept_case(user=people["resident"], case=case)
    assert Case.objects.get(pk=case.pk).status == Status.REPORTED


def test_id_number_is_refused(tree, people):
    with pytest.raises(ValidationError):
        grid_report(tree, people, description="当事人身份证 110105194912310021")
    assert not Case.objects.exists()


# -- the clock: deadlines and escalation --------------------------------------------------------

T0 = datetime.datetime(2026, 3, 2, 9, 0, tzinfo=datetime.UTC)


def test_a_case_not_accepted_in_time_escalates_one_council_at_a_time(tree, people):
    case = grid_report(tree, people, now=T0)
    assert case.handler_council == tree["grid"]
    # One second before the deadline nothing moves.
    assert services.escalate_overdue(now=T0 + datetime.timedelta(hours=24)) == 0
    assert services.escalate_overdue(now=T0 + datetime.timedelta(hours=24, seconds=1)) == 1
    case.refresh_from_db()
    assert case.handler_council == tree["village"]
    assert case.status == Status.REPORTED and case.escalations == 1
    # The village gets its own 24 hours; a second sweep at the same moment does nothing.
    assert services.escalate_overdue(now=T0 + datetime.timedelta(hours=24, seconds=1)) == 0
    later = T0 + datetime.timedelta(hours=48, seconds=2)
    assert services.escalate_overdue(now=later) == 1
    case.refresh_from_db()
    assert case.handler_council == tree["township"]
    assert services.escalate_overdue(now=later + datetime.timedelta(hours=25)) == 1
    case.refresh_from_db()
    assert case.handler_council == tree["district"]
    event = case.events.filter(kind=EventKind.ESCALATED).last()
    assert event.actor is None and event.handler_council == tree["district"]


def test_escalation_tells_the_council_it_reaches(tree, people):
    from notifications.models import Notification

    case = grid_report(tree, people, now=T0)
    services.escalate_overdue(now=T0 + datetime.timedelta(hours=25))
    told = set(
        Notification.objects.filter(params__title=case.title).values_list("recipient", flat=True)
    )
    assert people["committee"].pk in told  # the village acts now
    assert people["resident"].pk not in told


def test_an_accepted_case_past_its_resolve_deadline_escalates_and_stays_accepted(tree, people):
    case = grid_report(tree, people, now=T0)
    services.accept_case(user=people["grid_worker"], case=case, now=T0)
    assert services.escalate_overdue(now=T0 + datetime.timedelta(days=6)) == 0
    assert services.escalate_overdue(now=T0 + datetime.timedelta(days=7, seconds=1)) == 1
    case.refresh_from_db()
    assert case.status == Status.ACCEPTED
    assert case.handler_council == tree["village"]
    assert case.resolve_due == T0 + datetime.timedelta(days=14, seconds=1)
    # Resolved late: closed, but not on time.
    services.resolve_case(
        user=people["committee"], case=case, outcome="修好了", now=T0 + datetime.timedelta(days=8)
    )
    case = services.confirm_case(
        user=people["grid_worker"], case=case, satisfaction=4, now=T0 + datetime.timedelta(days=8)
    )
    assert case.status == Status.CLOSED and case.on_time is False


def test_a_township_rule_sets_the_handler_and_deadlines(tree, people):
    services.set_level_rule(
        user=people["official"],
        township=tree["township"],
        level=Whistle.ROUTINE,
        tier="village",
        inform_township=True,
        accept_hours=2,
        resolve_days=3,
    )
    case = grid_report(tree, people, now=T0)
    assert case.handler_council == tree["village"]
    assert case.accept_due == T0 + datetime.timedelta(hours=2)
    assert case.resolve_due == T0 + datetime.timedelta(days=3)
    # Another township's cases keep the defaults.
    assert services.rule_for(tree["other_township"], Whistle.ROUTINE).accept_hours == 24


@pytest.mark.parametrize("who", ["committee", "grid_worker", "resident", "other_official"])
def test_only_the_townships_officials_set_its_rules(tree, people, who):
    with pytest.raises(PermissionDenied):
        services.set_level_rule(
            user=people[who],
            township=tree["township"],
            level=Whistle.ROUTINE,
            tier="village",
            inform_township=False,
            accept_hours=2,
            resolve_days=3,
        )


@pytest.mark.parametrize("hours,days", [(0, 3), (721, 3), (2, 0), (2, 366)])
def test_a_rule_out_of_range_is_refused(tree, people, hours, days):
    with pytest.raises(ValidationError):
        services.set_level_rule(
            user=people["official"],
            township=tree["township"],
            level=Whistle.ROUTINE,
            tier="village",
            inform_township=False,
            accept_hours=hours,
            resolve_days=days,
        )


def test_unconfirmed_outcome_closes_after_seven_days(tree, people):
    case = grid_report(tree, people, now=T0)
    services.accept_case(user=people["grid_worker"], case=case, now=T0)
    services.resolve_case(user=people["grid_worker"], case=case, outcome="修好了", now=T0)
    assert services.close_unconfirmed(now=T0 + datetime.timedelta(days=7)) == 0
    assert services.close_unconfirmed(now=T0 + datetime.timedelta(days=7, seconds=1)) == 1
    case.refresh_from_db()
    assert case.status == Status.CLOSED and case.satisfaction is None and case.on_time is True


# -- reopening ----------------------------------------------------------------------------------


@pytest.mark.parametrize("rating", [1, 2])
def test_dissatisfied_reporter_reopens_the_case(tree, people, rating):
    case = grid_report(tree, people, now=T0)
    services.accept_case(user=people["grid_worker"], case=case, now=T0)
    services.resolve_case(user=people["grid_worker"], case=case, outcome="看过了", now=T0)
    later = T0 + datetime.timedelta(days=1)
    case = services.confirm_case(
        user=people["grid_worker"], case=case, satisfaction=rating, comment="灯还是不亮", now=later
    )
    assert case.status == Status.IN_HAND
    assert case.reopened == 1 and case.resolved_at is None and case.closed_at is None
    assert case.resolve_due == later + datetime.timedelta(days=7)
    # The handler tries again; this time it holds.
    services.resolve_case(user=people["grid_worker"], case=case, outcome="换了灯泡", now=later)
    case = services.confirm_case(user=people["grid_worker"], case=case, satisfaction=5, now=later)
    assert case.status == Status.CLOSED and case.reopened == 1 and case.satisfaction == 5
    kinds = list(case.events.values_list("kind", flat=True))
    assert kinds.count("resolved") == 2 and "reopened" in kinds


@pytest.mark.parametrize("rating", [0, 6, "x", None])
def test_a_rating_out_of_range_is_refused_and_changes_nothing(tree, people, rating):
    case = grid_report(tree, people)
    services.accept_case(user=people["grid_worker"], case=case)
    services.resolve_case(user=people["grid_worker"], case=case, outcome="修好了")
    with pytest.raises(ValidationError):
        services.confirm_case(user=people["grid_worker"], case=case, satisfaction=rating)
    case.refresh_from_db()
    assert case.status == Status.RESOLVED and case.satisfaction is None


@pytest.mark.parametrize("who", ["committee", "official", "resident"])
def test_only_the_reporter_confirms(tree, people, who):
    case = grid_report(tree, people)
    services.accept_case(user=people["grid_worker"], case=case)
    services.resolve_case(user=people["grid_worker"], case=case, outcome="修好了")
    with pytest.raises(PermissionDenied):
        services.confirm_case(user=people[who], case=case, satisfaction=5)


def test_steps_out_of_order_are_refused(tree, people):
    case = grid_report(tree, people)
    with pytest.raises(ValidationError):
        services.resolve_case(user=people["grid_worker"], case=case, outcome="x")
    with pytest.raises(ValidationError):
        services.start_case(user=people["grid_worker"], case=case)
    services.accept_case(user=people["grid_worker"], case=case)
    with pytest.raises(ValidationError):
        services.accept_case(user=people["grid_worker"], case=case)
    with pytest.raises(ValidationError):
        services.confirm_case(user=people["grid_worker"], case=case, satisfaction=5)
    with pytest.raises(ValidationError):
        services.resolve_case(user=people["grid_worker"], case=case, outcome="  ")


# -- departments (吹哨报到) -----------------------------------------------------------------------


def justice_office(tree, people, *, name="司法所"):
    from cases.models import DepartmentKind, DepartmentMember
    from tests.councils.factories import UserFactory

    department = services.register_department(
        user=people["official"], council=tree["township"], name=name, kind=DepartmentKind.JUSTICE
    )
    clerk = UserFactory()
    DepartmentMember.objects.create(department=department, user=clerk)
    return department, clerk


def test_whistled_department_must_report_in_within_the_hours(tree, people):
    office, clerk = justice_office(tree, people)
    case = grid_report(tree, people, level=Whistle.DIFFICULT, now=T0)
    at = T0 + datetime.timedelta(hours=1)
    case = services.whistle_case(
        user=people["official"], case=case, department=office, reason="", now=at
    )
    assert case.department == office and case.status == Status.REPORTED
    assert case.accept_due == at + datetime.timedelta(hours=24)
    # The township's staff no longer handle it: the department does.
    with pytest.raises(PermissionDenied):
        services.accept_case(user=people["official"], case=case, now=at)
    services.accept_case(user=clerk, case=case, now=at + datetime.timedelta(hours=2))
    services.resolve_case(
        user=clerk, case=case, outcome="调解完毕", now=at + datetime.timedelta(days=2)
    )
    case.refresh_from_db()
    assert case.status == Status.RESOLVED


def test_an_overdue_department_loses_the_case_to_the_council_above(tree, people):
    office, _clerk = justice_office(tree, people)
    case = grid_report(tree, people, level=Whistle.DIFFICULT, now=T0)
    services.whistle_case(user=people["official"], case=case, department=office, reason="", now=T0)
    assert services.escalate_overdue(now=T0 + datetime.timedelta(hours=24, seconds=1)) == 1
    case.refresh_from_db()
    assert case.department is None and case.handler_council == tree["district"]


def test_passing_between_departments_needs_a_reason(tree, people):
    office, _clerk = justice_office(tree, people)
    police, _officer = justice_office(tree, people, name="派出所")
    case = grid_report(tree, people, level=Whistle.DIFFICULT, now=T0)
    services.whistle_case(user=people["official"], case=case, department=office, reason="", now=T0)
    with pytest.raises(ValidationError):
        services.whistle_case(user=people["official"], case=case, department=police, reason=" ")
    case = services.whistle_case(
        user=people["official"], case=case, department=police, reason="涉及治安，转派出所"
    )
    assert case.department == police
    transfer = case.events.get(kind=EventKind.TRANSFERRED)
    assert transfer.text == "涉及治安，转派出所" and transfer.actor == people["official"]


def test_a_department_of_another_township_cannot_be_whistled(tree, people):
    from cases.models import DepartmentKind

    far = services.register_department(
        user=people["other_official"],
        council=tree["other_township"],
        name="桃源司法所",
        kind=DepartmentKind.JUSTICE,
    )
    case = grid_report(tree, people, level=Whistle.DIFFICULT)
    with pytest.raises(ValidationError):
        services.whistle_case(user=people["official"], case=case, department=far, reason="")


@pytest.mark.parametrize("who", ["committee", "grid_worker", "resident", "other_official"])
def test_only_officials_above_whistle(tree, people, who):
    office, _clerk = justice_office(tree, people)
    case = grid_report(tree, people, level=Whistle.DIFFICULT)
    with pytest.raises(PermissionDenied):
        services.whistle_case(user=people[who], case=case, department=office, reason="")
    case.refresh_from_db()
    assert case.department is None


# -- disputes and mediation ---------------------------------------------------------------------


def test_a_mediated_dispute(tree, people):
    from cases.models import Mediation, Source

    mediator = people["representative"]
    case = grid_report(
        tree,
        people,
        reporter=people["resident"],
        source=Source.DISPUTE,
        public=True,  # asked for, but a dispute is never public
        parties=[("applicant", "王小英"), ("respondent", "李大山")],
        now=T0,
    )
    assert case.public is False
    services.accept_case(user=people["grid_worker"], case=case, now=T0)
    services.name_mediator(user=people["grid_worker"], case=case, mediator=mediator, now=T0)
    services.record_mediation_session(user=mediator, case=case, text="双方到场，各自陈述", now=T0)
    follow = datetime.date(2026, 4, 1)
    services.record_agreement(
        user=mediator, case=case, agreement="围墙后退半米，费用各半", follow_up_on=follow, now=T0
    )
    with pytest.raises(ValidationError):
        services.record_agreement(
            user=mediator, case=case, agreement="again", follow_up_on=None, now=T0
        )
    services.record_follow_up(user=mediator, case=case, text="协议已履行", now=T0)
    mediation = Mediation.objects.get(case=case)
    assert mediation.agreed_at == T0 and mediation.follow_up_on == follow
    assert mediation.followed_up_at is not None
    kinds = list(case.events.values_list("kind", flat=True))
    assert kinds[-4:] == ["mediator", "mediation", "agreement", "follow_up"]


def test_a_dispute_needs_two_parties(tree, people):
    from cases.models import Source

    with pytest.raises(ValidationError):
        grid_report(
            tree,
            people,
            reporter=people["resident"],
            source=Source.DISPUTE,
            parties=[("applicant", "王小英")],
        )


def test_a_mediator_cannot_be_named_by_a_neighbour(tree, people):
    from cases.models import Source

    case = grid_report(
        tree,
        people,
        reporter=people["resident"],
        source=Source.DISPUTE,
        parties=[("applicant", "王小英"), ("respondent", "李大山")],
    )
    with pytest.raises(PermissionDenied):
        services.name_mediator(user=people["neighbour"], case=case, mediator=people["neighbour"])
    with pytest.raises(PermissionDenied):
        services.record_mediation_session(user=people["neighbour"], case=case, text="x")


def test_a_resident_cannot_sort_their_own_demand_as_difficult(tree, people):
    from cases.models import Source

    case = grid_report(
        tree, people, reporter=people["resident"], source=Source.DEMAND, level=Whistle.DIFFICULT
    )
    assert case.level == Whistle.ROUTINE


def test_events_are_append_only(tree, people):
    case = grid_report(tree, people)
    event = case.events.get()
    event.text = "改写"
    with pytest.raises(ValidationError):
        event.save()
    with pytest.raises(ValidationError):
        event.delete()
