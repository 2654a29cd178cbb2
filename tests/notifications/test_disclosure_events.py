"""The three openings tell the people concerned, in the event's transaction, once per event, never
the one who acted, and only those who may see the record (disclosure.services):

- a record submitted: the supervisors who may sign it off;
- an objection: the committee;
- a question answered or overdue: the asker, the committee and the supervisors;
- a record published: its followers.
"""

import datetime

import pytest
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from freezegun import freeze_time

from core import tasks as core_tasks
from core.sms import MemorySmsBackend
from councils.models import MembershipStatus, Role
from disclosure import services
from disclosure.models import Action, Question, RecordEvent, Status
from notifications import services as notifications
from notifications.channels import MemoryWechatBackend
from notifications.kinds import Kind
from notifications.models import Follow, Notification
from tests.conftest import isolate_cache_and_layer
from tests.councils.factories import UserFactory, member
from tests.disclosure.factories import draft, people, published_statement, signed_off

pytestmark = pytest.mark.django_db

ASKED = "2026-04-01 02:00:00+00:00"  # 10:00 in China
IN_TIME = "2026-04-10 02:00:00+00:00"
DUE = "2026-04-11 02:00:00+00:00"  # ten days later: the default deadline
LATE = "2026-04-11 02:00:01+00:00"
MUCH_LATER = "2026-04-20 02:00:00+00:00"


@pytest.fixture(autouse=True)
def _isolated(settings, request):
    isolate_cache_and_layer(settings, request)
    # Tasks are queued, not run: nothing is sent in these tests, only the inbox is looked at.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    settings.YISHI_QUESTION_DEADLINE_DAYS = 10
    MemorySmsBackend.outbox.clear()
    MemoryWechatBackend.outbox.clear()
    yield
    MemorySmsBackend.outbox.clear()
    MemoryWechatBackend.outbox.clear()


@pytest.fixture
def p(tree):
    return people(tree)


@pytest.fixture
def others(tree):
    """Committee and supervisors of the neighbouring village: never told of this one's records."""
    return {
        "committee": member(tree["other_village"], Role.COMMITTEE),
        "supervisor": member(tree["other_village"], Role.SUPERVISOR),
    }


def told(kind=None) -> set[int]:
    rows = Notification.objects.all()
    if kind is not None:
        rows = rows.filter(kind=kind)
    return set(rows.values_list("recipient_id", flat=True))


def bystanders(p, others) -> set[int]:
    """People of the matrix who are told of no event on the village's records."""
    return {
        p.resident.pk,
        p.outsider.pk,
        p.official.pk,
        p.other_resident.pk,
        p.other_official.pk,
        others["committee"].pk,
        others["supervisor"].pk,
    }


def follow(record, *people_):
    for person in people_:
        notifications.follow(user=person, obj=record)


def ask(record, by, text="这笔租金为什么比去年少？"):
    return services.ask_question(record=record, by=by, text=text)


# --- A record waiting for sign-off ----------------------------------------------------------


def test_a_submitted_record_asks_the_supervisors_and_nobody_else(tree, p, others):
    record = draft(tree["village"], p.committee)
    services.submit_for_review(record=record, by=p.committee)
    assert told() == {p.supervisor.pk, p.supervisor2.pk}
    assert not told() & bystanders(p, others)
    assert p.committee.pk not in told() and p.committee2.pk not in told()
    notice = Notification.objects.get(recipient=p.supervisor)
    submitted = RecordEvent.objects.get(record=record, action=Action.SUBMITTED)
    assert notice.kind == Kind.RECORD_AWAITING_SIGNOFF
    assert notice.url == record.get_absolute_url()
    assert notice.council_id == tree["village"].pk
    assert notice.params == {"title": record.title}
    assert notice.event_key == f"record-awaiting-signoff:{record.pk}:{submitted.pk}"


def test_a_supervisor_who_also_sits_on_the_committee_is_not_asked_to_sign_off(tree, p):
    # Data from before the two roles were kept apart: such a person may not sign off.
    both = member(tree["village"], Role.COMMITTEE)
    member(tree["village"], Role.SUPERVISOR, user=both)
    record = draft(tree["village"], p.committee)
    services.submit_for_review(record=record, by=p.committee)
    assert both.pk not in told()


def test_unverified_and_deactivated_supervisors_are_not_asked(tree, p):
    pending = member(tree["village"], Role.SUPERVISOR, status=MembershipStatus.PENDING)
    gone = member(tree["village"], Role.SUPERVISOR)
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    record = draft(tree["village"], p.committee)
    services.submit_for_review(record=record, by=p.committee)
    assert told() == {p.supervisor.pk, p.supervisor2.pk}
    assert pending.pk not in told() and gone.pk not in told()


def test_supervisors_of_the_township_above_are_not_asked(tree, p):
    township_supervisor = member(tree["township"], Role.SUPERVISOR)
    record = draft(tree["village"], p.committee)
    services.submit_for_review(record=record, by=p.committee)
    assert township_supervisor.pk not in told()


def test_a_refused_submission_asks_nobody(tree, p):
    record = draft(tree["village"], p.committee)
    with pytest.raises(PermissionDenied):
        services.submit_for_review(record=record, by=p.resident)
    assert told() == set()


def test_a_submission_rolled_back_asks_nobody(tree, p):
    record = draft(tree["village"], p.committee)
    with pytest.raises(RuntimeError), transaction.atomic():
        services.submit_for_review(record=record, by=p.committee)
        raise RuntimeError("the request failed after the submission")
    assert told() == set()


def test_each_submission_after_an_objection_asks_again(tree, p):
    record = draft(tree["village"], p.committee)
    services.submit_for_review(record=record, by=p.committee)
    services.object_to_record(record=record, by=p.supervisor, reason="缺少发票")
    services.submit_for_review(record=record, by=p.committee)
    asked = Notification.objects.filter(kind=Kind.RECORD_AWAITING_SIGNOFF, recipient=p.supervisor2)
    assert asked.count() == 2


# --- An objection -----------------------------------------------------------------------------


def test_an_objection_tells_the_committee_and_nobody_else(tree, p, others):
    record = draft(tree["village"], p.committee)
    services.submit_for_review(record=record, by=p.committee)
    Notification.objects.all().delete()
    services.object_to_record(record=record, by=p.supervisor, reason="缺少3月5日的发票")
    assert told() == {p.committee.pk, p.committee2.pk}
    assert not told() & bystanders(p, others)
    assert p.supervisor.pk not in told() and p.supervisor2.pk not in told()
    notice = Notification.objects.get(recipient=p.committee2)
    assert notice.kind == Kind.RECORD_OBJECTION
    assert notice.params == {"title": record.title, "reason": "缺少3月5日的发票"}
    assert notice.url == record.get_absolute_url()
    assert notice.council_id == tree["village"].pk


def test_an_objection_after_sign_off_tells_the_committee_but_not_the_signer(tree, p):
    record = signed_off(
        draft(tree["village"], p.committee), committee=p.committee, supervisor=p.supervisor
    )
    Notification.objects.all().delete()
    services.object_to_record(record=record, by=p.supervisor2, reason="金额与凭证不符")
    assert told() == {p.committee.pk, p.committee2.pk}


def test_a_former_committee_member_who_prepared_it_is_not_told(tree, p):
    former = member(tree["village"], Role.COMMITTEE)
    record = draft(tree["village"], former)
    services.submit_for_review(record=record, by=former)
    former.memberships.filter(role=Role.COMMITTEE).update(status=MembershipStatus.REJECTED)
    Notification.objects.all().delete()
    services.object_to_record(record=record, by=p.supervisor, reason="缺少发票")
    assert told() == {p.committee.pk, p.committee2.pk}  # they may no longer see the draft


def test_a_refused_objection_tells_nobody(tree, p):
    record = draft(tree["village"], p.committee)
    services.submit_for_review(record=record, by=p.committee)
    Notification.objects.all().delete()
    for someone in (p.committee2, p.resident, p.official):
        with pytest.raises(PermissionDenied):
            services.object_to_record(record=record, by=someone, reason="不同意")
    assert told() == set()


# --- A question answered ----------------------------------------------------------------------


def test_an_answer_tells_the_asker_committee_and_supervisors_never_the_answerer(tree, p, others):
    record = published_statement(tree["village"], p)
    question = ask(record, p.resident)
    neighbour = member(tree["village"])  # another resident, who did not ask
    Notification.objects.all().delete()
    services.answer_question(question=question, by=p.committee2, answer="去年多收了一季。")
    assert told() == {p.resident.pk, p.committee.pk, p.supervisor.pk, p.supervisor2.pk}
    assert p.committee2.pk not in told() and neighbour.pk not in told()
    assert not told() & (bystanders(p, others) - {p.resident.pk})
    notice = Notification.objects.get(recipient=p.resident)
    assert notice.kind == Kind.QUESTION_ANSWERED
    assert notice.event_key == f"question-answered:{question.pk}"
    assert notice.params == {"title": record.title}
    assert notice.url == record.get_absolute_url()
    assert notice.council_id == tree["village"].pk


def test_a_refused_answer_tells_nobody(tree, p):
    record = published_statement(tree["village"], p)
    question = ask(record, p.resident)
    Notification.objects.all().delete()
    for someone in (p.supervisor, p.resident, p.official):
        with pytest.raises(PermissionDenied):
            services.answer_question(question=question, by=someone, answer="不知道")
    assert told() == set()


def test_an_asker_whose_account_is_gone_is_not_told(tree, p):
    record = published_statement(tree["village"], p)
    question = ask(record, p.resident)
    p.resident.is_active = False
    p.resident.save(update_fields=["is_active"])
    services.answer_question(question=question, by=p.committee, answer="去年多收了一季。")
    assert p.resident.pk not in told(Kind.QUESTION_ANSWERED)


# --- A question overdue -----------------------------------------------------------------------


def test_an_overdue_question_is_told_once_however_often_the_sweep_runs(tree, p, others):
    record = published_statement(tree["village"], p)
    with freeze_time(ASKED):
        question = ask(record, p.resident)
    with freeze_time(DUE):
        assert services.notify_overdue_questions() == 0  # due now, not past due
    with freeze_time(LATE):
        assert services.notify_overdue_questions() == 1
        assert services.notify_overdue_questions() == 0
    with freeze_time(MUCH_LATER):
        assert services.notify_overdue_questions() == 0
    everyone = {p.resident.pk, p.committee.pk, p.committee2.pk, p.supervisor.pk, p.supervisor2.pk}
    assert told(Kind.QUESTION_OVERDUE) == everyone
    assert not told() & (bystanders(p, others) - {p.resident.pk})
    assert Notification.objects.filter(kind=Kind.QUESTION_OVERDUE).count() == len(everyone)
    notice = Notification.objects.get(recipient=p.supervisor, kind=Kind.QUESTION_OVERDUE)
    assert notice.event_key == f"question-overdue:{question.pk}"
    assert notice.params == {"title": record.title, "due": "2026-04-11 10:00"}
    assert notice.url == record.get_absolute_url()
    assert notice.council_id == tree["village"].pk


def test_a_question_answered_in_time_is_never_told_overdue(tree, p):
    record = published_statement(tree["village"], p)
    with freeze_time(ASKED):
        question = ask(record, p.resident)
    with freeze_time(IN_TIME):
        services.answer_question(question=question, by=p.committee, answer="去年多收了一季。")
    with freeze_time(MUCH_LATER):
        assert services.notify_overdue_questions() == 0
    assert told(Kind.QUESTION_OVERDUE) == set()


def test_a_question_answered_late_before_the_sweep_ran_is_not_told_overdue(tree, p):
    record = published_statement(tree["village"], p)
    with freeze_time(ASKED):
        question = ask(record, p.resident)
    with freeze_time(MUCH_LATER):
        services.answer_question(question=question, by=p.committee, answer="抱歉，回复晚了。")
        assert services.notify_overdue_questions() == 0
    assert told(Kind.QUESTION_OVERDUE) == set()
    assert p.resident.pk in told(Kind.QUESTION_ANSWERED)


def test_a_question_answered_after_the_overdue_notice_is_still_told_answered(tree, p):
    record = published_statement(tree["village"], p)
    with freeze_time(ASKED):
        question = ask(record, p.resident)
    with freeze_time(LATE):
        services.notify_overdue_questions()
    with freeze_time(MUCH_LATER):
        services.answer_question(question=question, by=p.committee, answer="抱歉，回复晚了。")
        assert services.notify_overdue_questions() == 0
    kinds = Notification.objects.filter(recipient=p.resident).values_list("kind", flat=True)
    assert sorted(kinds) == sorted([Kind.QUESTION_OVERDUE, Kind.QUESTION_ANSWERED])


def test_only_the_overdue_questions_are_told_each_once(tree, p):
    record = published_statement(tree["village"], p)
    with freeze_time(ASKED):
        early = ask(record, p.resident, text="第一季度的租金在哪里？")
    with freeze_time(IN_TIME):
        later = ask(record, p.resident, text="第二季度的租金在哪里？")
    with freeze_time(LATE):
        assert services.notify_overdue_questions() == 1
    keys = set(Notification.objects.values_list("event_key", flat=True))
    assert f"question-overdue:{early.pk}" in keys
    assert f"question-overdue:{later.pk}" not in keys
    assert Question.objects.get(pk=later.pk).overdue_told_at is None


def test_the_reaper_runs_the_overdue_sweep_every_minute(tree, p):
    record = published_statement(tree["village"], p)
    with freeze_time(ASKED):
        ask(record, p.resident)
    with freeze_time(LATE):
        assert core_tasks.reap_stalled()["questions_told_overdue"] == 1
        assert core_tasks.reap_stalled()["questions_told_overdue"] == 0
    assert p.committee.pk in told(Kind.QUESTION_OVERDUE)


def test_the_sweep_takes_the_time_it_is_given(tree, p):
    record = published_statement(tree["village"], p)
    with freeze_time(ASKED):
        ask(record, p.resident)
        assert services.notify_overdue_questions(now=timezone.now()) == 0
        later = timezone.now() + datetime.timedelta(days=11)
        assert services.notify_overdue_questions(now=later) == 1
    assert p.resident.pk in told(Kind.QUESTION_OVERDUE)


# --- A record published -----------------------------------------------------------------------


def test_publication_tells_the_followers_and_nobody_else(tree, p, others):
    record = signed_off(
        draft(tree["village"], p.committee), committee=p.committee, supervisor=p.supervisor
    )
    follow(record, p.supervisor2, p.official)  # may see it before publication
    Notification.objects.all().delete()
    services.publish_record(record=record, by=p.committee2)
    assert told() == {p.supervisor2.pk, p.official.pk}
    assert not told() & (bystanders(p, others) - {p.official.pk})
    assert p.committee.pk not in told() and p.supervisor.pk not in told()
    notice = Notification.objects.get(recipient=p.supervisor2)
    assert notice.kind == Kind.RECORD_PUBLISHED
    assert notice.event_key == f"record-published:{record.pk}"
    assert notice.params == {"title": record.title}
    assert notice.url == record.get_absolute_url()


def test_the_publisher_is_not_told_though_following(tree, p):
    record = signed_off(
        draft(tree["village"], p.committee), committee=p.committee, supervisor=p.supervisor
    )
    follow(record, p.committee, p.committee2)
    Notification.objects.all().delete()
    services.publish_record(record=record, by=p.committee)
    assert told() == {p.committee2.pk}


def test_nobody_following_means_nobody_told_of_publication(tree, p):
    record = signed_off(
        draft(tree["village"], p.committee), committee=p.committee, supervisor=p.supervisor
    )
    other = draft(tree["village"], p.committee, title="另一份记录")
    follow(other, p.supervisor2)  # follows another record
    Notification.objects.all().delete()
    services.publish_record(record=record, by=p.committee)
    assert told() == set()


def test_a_deactivated_follower_is_not_told_of_publication(tree, p):
    record = signed_off(
        draft(tree["village"], p.committee), committee=p.committee, supervisor=p.supervisor
    )
    gone = member(tree["village"], Role.SUPERVISOR)
    follow(record, gone, p.supervisor2)
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    Notification.objects.all().delete()
    services.publish_record(record=record, by=p.committee)
    assert told() == {p.supervisor2.pk}


def test_a_published_correction_tells_the_followers_of_the_original(tree, p):
    original = published_statement(tree["village"], p)
    follow(original, p.resident)
    correction = services.correct_record(original=original, by=p.committee, reason="金额录错")
    signed_off(correction, committee=p.committee, supervisor=p.supervisor)
    Notification.objects.all().delete()
    services.publish_record(record=correction, by=p.committee2)
    assert told() == {p.resident.pk}
    notice = Notification.objects.get(recipient=p.resident)
    assert notice.url == correction.get_absolute_url()
    assert notice.params == {"title": correction.title}


# --- Following a record -----------------------------------------------------------------------


def test_a_resident_follows_a_published_record_from_its_page(client, tree, p):
    record = published_statement(tree["village"], p)
    client.force_login(p.resident)
    page = client.get(record.get_absolute_url()).content.decode()
    assert reverse("notifications:follow") in page
    assert notifications.target_key(record) in page
    response = client.post(
        reverse("notifications:follow"),
        {"target": notifications.target_key(record), "next": record.get_absolute_url()},
    )
    assert response.status_code == 302
    assert notifications.is_following(p.resident, record)


def test_nobody_follows_a_draft_they_may_not_see(client, tree, p):
    record = draft(tree["village"], p.committee)
    client.force_login(p.resident)
    assert client.get(record.get_absolute_url()).status_code in (403, 404)
    response = client.post(
        reverse("notifications:follow"), {"target": notifications.target_key(record)}
    )
    assert response.status_code == 403
    assert not Follow.objects.exists()


def test_anonymous_visitors_see_no_follow_button_and_cannot_follow(client, tree, p):
    record = published_statement(tree["village"], p)
    page = client.get(record.get_absolute_url())
    assert page.status_code == 200
    assert reverse("notifications:follow") not in page.content.decode()
    response = client.post(
        reverse("notifications:follow"), {"target": notifications.target_key(record)}
    )
    assert response.status_code == 302 and "login" in response["Location"]
    assert not Follow.objects.exists()


def test_the_committee_follows_its_draft(client, tree, p):
    record = draft(tree["village"], p.committee)
    assert record.status == Status.DRAFT
    client.force_login(p.committee2)
    assert reverse("notifications:follow") in client.get(record.get_absolute_url()).content.decode()
    client.post(reverse("notifications:follow"), {"target": notifications.target_key(record)})
    assert notifications.is_following(p.committee2, record)


def test_an_outsider_is_not_told_of_anything_on_the_village_records(tree, p):
    stranger = UserFactory()
    record = draft(tree["village"], p.committee)
    services.submit_for_review(record=record, by=p.committee)
    services.object_to_record(record=record, by=p.supervisor, reason="缺少发票")
    services.submit_for_review(record=record, by=p.committee)
    services.sign_off_record(record=record, by=p.supervisor)
    record = services.publish_record(record=record, by=p.committee)
    question = ask(record, p.resident)
    services.answer_question(question=question, by=p.committee, answer="去年多收了一季。")
    assert stranger.pk not in told() and p.outsider.pk not in told()
    assert p.other_resident.pk not in told() and p.other_official.pk not in told()
