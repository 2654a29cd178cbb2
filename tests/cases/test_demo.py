"""The cases demo (cases.demo): a month of cases in the demo villages, lived through the real
services, covering every source, level, status and ending; and running it again adds nothing.

The demo city is built once for the module, in a transaction rolled back at its end (as
tests/conftest.py `_module_tree` does for the council tree); each test runs in its own savepoint.
"""

import datetime
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import transaction
from django.db.models import Sum
from django.test import override_settings
from django.utils import timezone

from cases.models import (
    Case,
    CaseEvent,
    CaseFigure,
    CaseParty,
    Category,
    Department,
    DepartmentKind,
    DepartmentMember,
    EventKind,
    LevelRule,
    Mediation,
    Source,
    Status,
    Visit,
    Whistle,
)
from core.models import User
from councils.models import CouncilAction, CouncilPage, Level, Membership
from disclosure.privacy import identity_kind
from notifications.kinds import Kind
from notifications.models import Delivery, DeliveryStatus, Notification
from tests.councils.factories import home_page  # noqa: E402

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module", autouse=True)
def _demo_city(request):
    request.getfixturevalue("django_db_setup")
    blocker = request.getfixturevalue("django_db_blocker")
    outer = transaction.atomic()
    with blocker.unblock():
        outer.__enter__()
        try:
            with override_settings(
                DEBUG=True,
                CACHES={
                    "default": {
                        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                        "LOCATION": "cases-demo",
                    }
                },
                CHANNEL_LAYERS={"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}},
            ):
                # A transactional test run before in this worker may have emptied the page tree
                # that the migrations made: the site's home page first.
                home_page()
                call_command("load_demo_data", households=2, stdout=StringIO())
        except BaseException:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
            raise
    try:
        yield
    finally:
        with blocker.unblock():
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


def snapshot() -> dict:
    models = (
        Case,
        CaseEvent,
        CaseParty,
        Visit,
        Mediation,
        Department,
        DepartmentMember,
        LevelRule,
        User,
        Membership,
        CouncilAction,
        Notification,
    )
    return {model.__name__: model.objects.count() for model in models}


def test_the_month_has_every_source_level_category_and_status():
    cases = Case.objects.all()
    assert 40 <= cases.count() <= 100
    assert set(cases.values_list("source", flat=True)) == set(Source.values)
    assert set(cases.values_list("level", flat=True)) == set(Whistle.values)
    assert set(cases.values_list("category", flat=True)) == set(Category.values)
    assert set(cases.values_list("status", flat=True)) == set(Status.values)
    where = CouncilPage.objects.filter(pk__in=cases.values("council"))
    assert set(where.values_list("level", flat=True)) <= {Level.GRID, Level.VILLAGE}
    for slug in ("heping", "liushu", "taoyuan-v"):
        village = CouncilPage.objects.get(slug=slug)
        assert Case.objects.in_subtree(village).exists(), slug


def test_a_community_gets_urban_matters_without_village_words():
    community = CouncilPage.objects.get(slug="heping")
    cases = Case.objects.in_subtree(community).exclude(source=Source.TOPIC)  # the hall's words
    assert cases.exists()
    texts = []
    for case in cases:
        texts += [case.title, case.description, case.place]
        texts += case.events.values_list("text", flat=True)
    texts += Visit.objects.filter(council__path__startswith=community.path).values_list(
        "notes", flat=True
    )
    assert not [text for text in texts if "村" in text]
    assert cases.filter(title="楼顶私搭违建").exists()
    assert not cases.filter(title="占用耕地建房").exists()


def test_visit_findings_and_the_escalated_topic_keep_where_they_came_from():
    for case in Case.objects.filter(source=Source.VISIT).select_related("visit"):
        assert case.visit is not None
        assert case.visit.visited_on <= timezone.localdate(case.reported_at)
    assert Visit.objects.filter(night=True).exists()
    topic_cases = Case.objects.filter(source=Source.TOPIC)
    assert topic_cases.exists()
    assert not topic_cases.filter(topic__isnull=True).exists()


def test_a_case_was_reopened_on_a_poor_rating_and_closed_satisfied_later():
    reopened = Case.objects.filter(reopened__gte=1, status=Status.CLOSED, satisfaction__gte=4)
    assert reopened.exists()
    ratings = list(
        CaseEvent.objects.filter(
            case=reopened.first(), kind__in=[EventKind.REOPENED, EventKind.CONFIRMED]
        ).values_list("kind", "satisfaction")
    )
    assert ratings[0][0] == EventKind.REOPENED and ratings[0][1] <= 2
    assert ratings[-1][0] == EventKind.CONFIRMED and ratings[-1][1] >= 4


def test_overdue_cases_were_escalated_by_the_sweep():
    escalated = Case.objects.filter(escalations__gte=1)
    assert escalated.exists()
    events = CaseEvent.objects.filter(kind=EventKind.ESCALATED)
    assert events.count() >= escalated.count()
    assert not events.filter(actor__isnull=False).exists()  # the clock did it, nobody
    # One is still open, handled above the village after escalating twice.
    assert Case.objects.open().filter(escalations__gte=2).exists()


def test_a_department_reported_in_and_one_case_passed_on_with_a_reason():
    whistled = CaseEvent.objects.filter(kind=EventKind.WHISTLED).values("case")
    reported_in = CaseEvent.objects.filter(
        case__in=whistled, kind=EventKind.ACCEPTED, department__isnull=False
    )
    assert reported_in.exists()
    transfers = CaseEvent.objects.filter(kind=EventKind.TRANSFERRED)
    assert transfers.exists()
    for event in transfers:
        assert event.text.strip()
        assert event.department is not None


def test_one_dispute_is_mediated_by_a_rural_worthy_with_an_agreement_and_a_follow_up():
    mediations = Mediation.objects.filter(case__source=Source.DISPUTE).exclude(agreement="")
    worthy = mediations.filter(mediator_council__level=Level.WORTHIES).select_related(
        "case", "mediator_council"
    )
    assert worthy.exists()
    mediation = worthy.first()
    assert "调解协议" in mediation.agreement
    assert mediation.agreed_at is not None
    assert mediation.follow_up_on is not None
    assert mediation.follow_up_on >= timezone.localdate(mediation.agreed_at)
    assert Membership.objects.filter(
        user=mediation.mediator, council=mediation.mediator_council
    ).exists()
    kinds = set(mediation.case.events.values_list("kind", flat=True))
    assert {EventKind.MEDIATOR, EventKind.MEDIATION, EventKind.AGREEMENT} <= kinds
    assert mediation.case.parties.count() >= 2


def test_some_cases_wait_for_the_reporter_or_closed_unconfirmed():
    assert Case.objects.filter(status=Status.RESOLVED, satisfaction__isnull=True).exists()
    unconfirmed = CaseEvent.objects.filter(kind=EventKind.CLOSED, text="unconfirmed")
    assert unconfirmed.exists()


def test_every_step_happened_in_the_past_month_in_order():
    now = timezone.now()
    month_ago = now - datetime.timedelta(days=31)
    assert not Case.objects.filter(reported_at__lt=month_ago).exists()
    assert not CaseEvent.objects.filter(at__gt=now).exists()
    for case in Case.objects.prefetch_related("events"):
        times = [event.at for event in sorted(case.events.all(), key=lambda e: e.pk)]
        assert times == sorted(times), case.title
        assert times[0] == case.reported_at
    # A month of cases is spread over the month, not all reported today.
    assert Case.objects.filter(reported_at__lt=now - datetime.timedelta(days=20)).exists()


def test_no_case_text_holds_an_id_number():
    texts = []
    for case in Case.objects.all():
        texts += [case.title, case.description, case.place]
    texts += CaseEvent.objects.values_list("text", flat=True)
    texts += CaseParty.objects.values_list("name", flat=True)
    texts += Mediation.objects.values_list("agreement", flat=True)
    texts += Visit.objects.values_list("notes", flat=True)
    assert texts
    for text in texts:
        assert identity_kind(text) is None, text


def test_each_demo_township_has_its_departments_with_members_and_its_rules():
    for slug in ("heping", "liushu", "taoyuan-v"):
        township = CouncilPage.objects.get(slug=slug).get_parent().specific
        departments = Department.objects.filter(council=township)
        kinds = set(departments.values_list("kind", flat=True))
        assert {
            DepartmentKind.POLICE,
            DepartmentKind.JUSTICE,
            DepartmentKind.URBAN,
            DepartmentKind.CIVIL,
        } <= kinds
        for department in departments:
            assert department.memberships.exists(), department.name
        assert LevelRule.objects.filter(township=township).count() >= 2


def test_the_closure_figures_are_built_with_the_demo():
    reported = CaseFigure.objects.aggregate(total=Sum("reported"))["total"]
    assert reported == Case.objects.count()
    closed = CaseFigure.objects.aggregate(total=Sum("closed"))["total"]
    assert closed == Case.objects.filter(status=Status.CLOSED).count()


def test_the_past_month_is_not_texted_all_at_once():
    pending = Delivery.objects.filter(
        status=DeliveryStatus.PENDING, notification__kind=Kind.CASE_UPDATED
    )
    # Only what happened today (the hall topic escalated now) may still go out.
    assert pending.count() <= Case.objects.filter(source=Source.TOPIC).count() * 5
    assert Notification.objects.filter(kind=Kind.CASE_UPDATED).exists()


def test_running_the_demo_again_changes_nothing(settings):
    settings.DEBUG = True
    before = snapshot()
    events = list(CaseEvent.objects.order_by("pk").values_list("pk", "kind", "at"))
    out = StringIO()
    call_command("load_demo_data", households=2, stdout=out)
    assert snapshot() == before
    assert list(CaseEvent.objects.order_by("pk").values_list("pk", "kind", "at")) == events
    assert "0 cases" in out.getvalue()
