"""Who sees a case that is not public, beyond the table's columns (docs/permissions.md): members
of the department that holds it or held it, a mediator, a district official, a party; and ID
numbers refused in every text a case keeps."""

import pytest
from django.core.exceptions import ValidationError

from cases import services
from cases.models import Case, CaseEvent, DepartmentKind, DepartmentMember, Source, Whistle
from tests.cases.conftest import grid_report
from tests.councils.factories import UserFactory

pytestmark = pytest.mark.django_db

ID_NUMBER = "110105194912310021"


def department(tree, people, name):
    office = services.register_department(
        user=people["official"], council=tree["township"], name=name, kind=DepartmentKind.OTHER
    )
    clerk = UserFactory()
    DepartmentMember.objects.create(department=office, user=clerk)
    return office, clerk


@pytest.fixture
def dispute(tree, people):
    return grid_report(
        tree,
        people,
        reporter=people["resident"],
        source=Source.DISPUTE,
        level=Whistle.DIFFICULT,
        title="宅基地纠纷",
        parties=[("applicant", "王小英"), ("respondent", "李大山")],
    )


def test_who_sees_a_dispute_passed_between_departments(tree, people, dispute):
    justice, justice_clerk = department(tree, people, "司法所")
    police, police_officer = department(tree, people, "派出所")
    _unrelated, unrelated_clerk = department(tree, people, "民政办")
    services.whistle_case(user=people["official"], case=dispute, department=justice, reason="")
    services.whistle_case(
        user=people["official"], case=dispute, department=police, reason="涉及治安"
    )
    dispute.refresh_from_db()
    may = {
        "current department": police_officer,
        "former department": justice_clerk,
        "district official": people["district_official"],
        "reporter": people["resident"],
    }
    may_not = {
        "another department": unrelated_clerk,
        "neighbour": people["neighbour"],
        "supervisor": people["supervisor"],
        "representative": people["representative"],
        "other township's official": people["other_official"],
        "other village's committee": people["other_committee"],
        "outsider": UserFactory(),
    }
    for who, user in may.items():
        assert user.has_perm("cases.view_case", dispute), who
    for who, user in may_not.items():
        assert not user.has_perm("cases.view_case", dispute), who
    # Only the department holding it handles it; the one it left only reads.
    assert police_officer.has_perm("cases.handle_case", dispute)
    assert not justice_clerk.has_perm("cases.handle_case", dispute)
    assert not unrelated_clerk.has_perm("cases.handle_case", dispute)


def test_a_party_with_an_account_and_the_mediator_see_the_dispute(tree, people, dispute):
    party_user, mediator = UserFactory(), UserFactory()
    assert not party_user.has_perm("cases.view_case", dispute)
    assert not mediator.has_perm("cases.view_case", dispute)
    party = dispute.parties.get(name="李大山")
    party.user = party_user
    party.save()
    services.accept_case(user=people["official"], case=dispute)
    services.name_mediator(user=people["official"], case=dispute, mediator=mediator)
    assert party_user.has_perm("cases.view_case", dispute)
    assert not party_user.has_perm("cases.handle_case", dispute)
    assert mediator.has_perm("cases.view_case", dispute)
    assert mediator.has_perm("cases.mediate_case", dispute)
    assert not mediator.has_perm("cases.handle_case", dispute)


def test_the_public_flag_never_reaches_a_personal_case(tree, people):
    for source in (Source.DISPUTE, Source.VISIT):
        kwargs = (
            {"parties": [("applicant", "甲"), ("respondent", "乙")]} if source == "dispute" else {}
        )
        if source == Source.VISIT:
            kwargs["visit"] = services.log_visit(
                visitor=people["grid_worker"], council=tree["grid"], households=3
            )
        case = grid_report(tree, people, source=source, public=True, **kwargs)
        assert case.public is False
    # A welfare demand is about a person, whatever the reporter ticks.
    case = grid_report(
        tree,
        people,
        reporter=people["resident"],
        source=Source.DEMAND,
        category="welfare",
        public=True,
    )
    assert case.public is False
    # And the database refuses it too.
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Case.objects.filter(source=Source.DISPUTE).update(public=True)


def test_notifications_reach_only_those_who_may_see_the_case(tree, people, dispute):
    from notifications.models import Notification

    recipients = set(
        Notification.objects.filter(event_key__startswith=f"case:{dispute.pk}:").values_list(
            "recipient_id", flat=True
        )
    )
    assert recipients  # the township's officials are told of a difficult case
    for user_id in recipients:
        from core.models import User

        assert User.objects.get(pk=user_id).has_perm("cases.view_case", dispute)
    assert people["neighbour"].pk not in recipients
    assert people["supervisor"].pk not in recipients


# -- ID numbers, in every text a case keeps ------------------------------------------------------


def _handled(tree, people):
    case = grid_report(
        tree, people, source=Source.DISPUTE, parties=[("applicant", "甲"), ("respondent", "乙")]
    )
    services.accept_case(user=people["grid_worker"], case=case)
    return case


STEPS = {
    "title": lambda tree, people: grid_report(tree, people, title=f"身份证{ID_NUMBER}"),
    "description": lambda tree, people: grid_report(tree, people, description=f"证号 {ID_NUMBER}"),
    "place": lambda tree, people: grid_report(tree, people, place=ID_NUMBER),
    "party": lambda tree, people: grid_report(
        tree,
        people,
        source=Source.DISPUTE,
        parties=[("applicant", f"甲{ID_NUMBER}"), ("respondent", "乙")],
    ),
    "note": lambda tree, people: services.add_note(
        user=people["grid_worker"], case=_handled(tree, people), text=ID_NUMBER
    ),
    "start": lambda tree, people: services.start_case(
        user=people["grid_worker"], case=_handled(tree, people), text=ID_NUMBER
    ),
    "outcome": lambda tree, people: services.resolve_case(
        user=people["grid_worker"], case=_handled(tree, people), outcome=ID_NUMBER
    ),
    "session": lambda tree, people: (
        services.name_mediator(
            user=people["grid_worker"],
            case=(c := _handled(tree, people)),
            mediator=people["committee"],
        ),
        services.record_mediation_session(user=people["committee"], case=c, text=ID_NUMBER),
    ),
    "visit notes": lambda tree, people: services.log_visit(
        visitor=people["grid_worker"], council=tree["grid"], households=2, notes=ID_NUMBER
    ),
    "spaced": lambda tree, people: grid_report(tree, people, description="1101 0519 4912 3100 21"),
}


@pytest.mark.parametrize("step", list(STEPS))
def test_an_id_number_is_refused_and_nothing_of_it_is_kept(tree, people, step):
    with pytest.raises(ValidationError):
        STEPS[step](tree, people)
    texts = [
        *Case.objects.values_list("title", "description", "place"),
        *CaseEvent.objects.values_list("text"),
    ]
    assert not any(ID_NUMBER in (t or "") for row in texts for t in row)


def test_a_phone_number_is_refused_only_where_the_case_may_be_public(tree, people):
    with pytest.raises(ValidationError):
        grid_report(tree, people, public=True, description="联系13812345678")
    case = grid_report(
        tree,
        people,
        reporter=people["resident"],
        source=Source.DEMAND,
        category="welfare",
        description="请回电13812345678",
    )
    assert case.public is False


def test_the_reporter_reads_a_step_in_their_own_language(tree, people):
    """A step taken on a Chinese page is told to the reporter in the language they read it in,
    not in the language of the handler who took it."""
    from django.utils import translation

    from notifications.models import Notification
    from notifications.selectors import shown

    case = grid_report(tree, people)
    with translation.override("zh-hans"):
        services.accept_case(user=people["committee"], case=case)
    told = Notification.objects.filter(
        recipient=people["grid_worker"], event_key__contains="reporter-accepted"
    ).get()
    with translation.override("en"):
        assert "accepted" in shown(told)["text"]
    with translation.override("zh-hans"):
        text = shown(told)["text"]
        assert "accepted" not in text and "受理" in text
