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
