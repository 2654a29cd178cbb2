"""A topic taken up, answered or closed tells its asker and its followers who may still see it,
never the committee member who did it, once per event; following a topic from its page
(deliberation.services, notifications.views.follow)."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.urls import reverse
from freezegun import freeze_time

from core.sms import MemorySmsBackend
from councils.models import MembershipStatus, Role
from deliberation import services as halls
from deliberation.models import TopicEvent, TopicEventKind, TopicStatus
from notifications import delivery
from notifications import services as notifications
from notifications.channels import MemoryWechatBackend
from notifications.kinds import Kind
from notifications.models import Follow, Notification
from tests.conftest import isolate_cache_and_layer
from tests.councils.factories import UserFactory, member
from tests.deliberation.factories import HallFactory, TopicFactory

pytestmark = pytest.mark.django_db

DAYTIME = "2026-12-01 02:00:00+00:00"  # 10:00 in China, outside the default quiet hours


@pytest.fixture(autouse=True)
def _isolated(settings, request):
    isolate_cache_and_layer(settings, request)
    # Tasks are queued, not run: a test that sends calls the sender itself.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    MemorySmsBackend.outbox.clear()
    MemoryWechatBackend.outbox.clear()
    yield
    MemorySmsBackend.outbox.clear()
    MemoryWechatBackend.outbox.clear()


@pytest.fixture
def private_topic(tree, resident):
    return TopicFactory(hall=HallFactory(council=tree["village"], is_public=False), author=resident)


def following(obj, *people):
    for person in people:
        Follow.objects.create(user=person, target=notifications.target_key(obj))
    return people


def told(kind=None) -> set[int]:
    rows = Notification.objects.all()
    if kind is not None:
        rows = rows.filter(kind=kind)
    return set(rows.values_list("recipient_id", flat=True))


def take_up(topic, committee):
    return halls.change_topic_status(actor=committee, topic=topic, status=TopicStatus.TAKEN_UP)


def answer(topic, committee):
    return halls.answer_topic(actor=committee, topic=topic, answer="下周一开工，两周修好。")


def close(topic, committee, reason="已并入镇里的修路计划"):
    return halls.change_topic_status(
        actor=committee, topic=topic, status=TopicStatus.CLOSED, reason=reason
    )


EVENTS = {
    Kind.TOPIC_TAKEN_UP: take_up,
    Kind.TOPIC_ANSWERED: answer,
    Kind.TOPIC_CLOSED: close,
}


# --- Who is told ----------------------------------------------------------------------------


@pytest.mark.parametrize("kind", list(EVENTS))
def test_the_asker_and_followers_are_told_and_nobody_else(kind, tree, topic, resident, committee):
    (follower,) = following(topic, member(tree["village"]))
    far_follower = following(topic, member(tree["far_village"]))[0]  # a public hall: may see it
    unrelated = member(tree["village"])
    other_committee = member(tree["village"], Role.COMMITTEE)
    event = EVENTS[kind](topic, committee)
    assert told() == {resident.pk, follower.pk, far_follower.pk}
    assert committee.pk not in told() and unrelated.pk not in told()
    assert other_committee.pk not in told()  # not following: the committee knows already
    notice = Notification.objects.get(recipient=resident)
    assert notice.kind == kind
    assert notice.url == topic.get_absolute_url()
    assert notice.council_id == tree["village"].pk
    assert notice.event_key == f"topic:{topic.pk}:{kind}:{event.pk}"
    assert notice.params["title"] == topic.title


def test_the_closing_reason_is_in_the_notice(topic, resident, committee):
    close(topic, committee, reason="与第3号议题重复")
    notice = Notification.objects.get(recipient=resident)
    assert notice.params == {"title": topic.title, "reason": "与第3号议题重复"}


def test_answering_an_open_topic_tells_once_that_it_was_answered(topic, resident, committee):
    answer(topic, committee)
    assert list(Notification.objects.values_list("recipient_id", "kind")) == [
        (resident.pk, Kind.TOPIC_ANSWERED)
    ]
    # The history still says it was taken up before it was answered.
    assert list(TopicEvent.objects.filter(topic=topic).values_list("kind", flat=True)) == [
        TopicEventKind.TAKEN_UP,
        TopicEventKind.ANSWERED,
    ]


def test_each_occurrence_is_its_own_event(topic, resident, committee):
    answer(topic, committee)
    halls.answer_topic(actor=committee, topic=topic, answer="改为下下周开工")  # an update
    close(topic, committee)
    halls.change_topic_status(actor=committee, topic=topic, status=TopicStatus.OPEN, reason="重开")
    close(topic, committee)
    kinds = sorted(Notification.objects.filter(recipient=resident).values_list("kind", flat=True))
    assert kinds == [Kind.TOPIC_ANSWERED] * 2 + [Kind.TOPIC_CLOSED] * 2


def test_the_same_event_raised_again_tells_nobody_twice(topic, resident, committee):
    (follower,) = following(topic, member(topic.hall.council))
    event = close(topic, committee)
    topic.refresh_from_db()
    halls._tell_followers(topic=topic, kind=Kind.TOPIC_CLOSED, event=event, actor=committee)
    halls._tell_followers(topic=topic, kind=Kind.TOPIC_CLOSED, event=event, actor=committee)
    assert Notification.objects.filter(recipient=resident).count() == 1
    assert Notification.objects.filter(recipient=follower).count() == 1


def test_a_follower_who_can_no_longer_see_the_topic_is_not_told(
    tree, private_topic, resident, committee
):
    # They followed from another village while the hall was public; it is members-only now.
    outsider, stranger = following(private_topic, member(tree["other_village"]), UserFactory())
    answer(private_topic, committee)
    assert told() == {resident.pk}


def test_who_may_see_a_members_only_topic_is_still_told(tree, private_topic, resident, committee):
    neighbour, official = following(
        private_topic,
        member(tree["village"]),
        member(tree["township"], Role.OFFICIAL),
    )
    take_up(private_topic, committee)
    assert told() == {resident.pk, neighbour.pk, official.pk}


def test_an_asker_whose_membership_was_revoked_is_not_told_of_a_members_only_topic(tree, committee):
    asker = member(tree["village"], status=MembershipStatus.REJECTED)
    topic = TopicFactory(hall=HallFactory(council=tree["village"], is_public=False), author=asker)
    close(topic, committee)
    assert told() == set()


def test_the_committee_member_who_acts_is_never_told(tree, hall, committee):
    own = TopicFactory(hall=hall, author=committee)  # they raised it and follow it too
    following(own, committee)
    colleague = following(own, member(tree["village"], Role.COMMITTEE))[0]
    answer(own, committee)
    assert told() == {colleague.pk}


def test_a_deactivated_follower_is_not_told(tree, topic, resident, committee):
    (gone,) = following(topic, member(tree["village"]))
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    take_up(topic, committee)
    assert told() == {resident.pk}


def test_following_another_topic_tells_nothing_about_this_one(tree, hall, topic, committee):
    other = TopicFactory(hall=hall, author=committee)
    (follower,) = following(other, member(tree["village"]))
    take_up(topic, committee)
    assert follower.pk not in told()


@pytest.mark.parametrize("status, reason", [(TopicStatus.DECIDED, ""), (TopicStatus.OPEN, "再议")])
def test_deciding_or_reopening_tells_nobody(topic, committee, status, reason):
    if status == TopicStatus.OPEN:
        close(topic, committee)
        Notification.objects.all().delete()
    halls.change_topic_status(actor=committee, topic=topic, status=status, reason=reason)
    assert told() == set()


def test_a_refused_change_tells_nobody(topic, resident, committee):
    with pytest.raises(PermissionDenied):
        halls.change_topic_status(actor=resident, topic=topic, status=TopicStatus.TAKEN_UP)
    with pytest.raises(ValidationError):
        halls.change_topic_status(actor=committee, topic=topic, status=TopicStatus.CLOSED)
    with pytest.raises(ValidationError):
        halls.answer_topic(actor=committee, topic=topic, answer="   ")
    assert told() == set()


def test_a_rolled_back_event_leaves_no_notification(topic, resident, committee):
    with pytest.raises(RuntimeError), transaction.atomic():
        answer(topic, committee)
        assert told() == {resident.pk}
        raise RuntimeError("the request failed after the answer")
    assert told() == set()


# --- Delivery -------------------------------------------------------------------------------


@freeze_time(DAYTIME)
def test_an_answer_reaches_the_asker_by_sms_with_the_link(topic, resident, committee):
    answer(topic, committee)
    delivery.send_due()
    (text,) = [text for phone, text in MemorySmsBackend.outbox if phone == resident.phone]
    assert topic.title in text and topic.get_absolute_url() in text


@freeze_time(DAYTIME)
def test_taking_up_sends_no_sms_by_default(topic, resident, committee):
    take_up(topic, committee)
    delivery.send_due()
    assert MemorySmsBackend.outbox == []
    assert told(Kind.TOPIC_TAKEN_UP) == {resident.pk}  # the inbox has it


# --- Following from the topic's page ----------------------------------------------------------


def test_the_follow_button_shows_for_a_resident(client, topic, tree):
    client.force_login(member(tree["village"]))
    html = client.get(topic.get_absolute_url()).content.decode()
    assert f'value="deliberation.topic:{topic.pk}"' in html
    assert 'value="unfollow"' not in html


def test_the_follow_button_offers_to_stop_once_following(client, topic, tree):
    reader = member(tree["village"])
    following(topic, reader)
    client.force_login(reader)
    assert 'value="unfollow"' in client.get(topic.get_absolute_url()).content.decode()


def test_no_follow_button_for_anonymous_visitors(client, topic):
    response = client.get(topic.get_absolute_url())
    assert response.status_code == 200
    assert reverse("notifications:follow") not in response.content.decode()


def test_following_and_unfollowing_through_the_view(client, topic, tree, committee):
    reader = member(tree["village"])
    client.force_login(reader)
    url, target = reverse("notifications:follow"), f"deliberation.topic:{topic.pk}"
    response = client.post(url, {"target": target, "next": topic.get_absolute_url()})
    assert response.status_code == 302 and response.url == topic.get_absolute_url()
    client.post(url, {"target": target})  # twice: still one follow
    assert list(Follow.objects.values_list("user_id", "target")) == [(reader.pk, target)]
    take_up(topic, committee)
    assert reader.pk in told(Kind.TOPIC_TAKEN_UP)
    client.post(url, {"target": target, "action": "unfollow"})
    assert not Follow.objects.exists()
    close(topic, committee)
    assert reader.pk not in told(Kind.TOPIC_CLOSED)


def test_following_needs_a_login(client, topic):
    response = client.post(
        reverse("notifications:follow"), {"target": f"deliberation.topic:{topic.pk}"}
    )
    assert response.status_code == 302 and reverse("account_login") in response.url
    assert not Follow.objects.exists()


def test_following_is_a_post(client, topic, resident):
    client.force_login(resident)
    response = client.get(
        reverse("notifications:follow"), {"target": f"deliberation.topic:{topic.pk}"}
    )
    assert response.status_code == 405
    assert not Follow.objects.exists()


@pytest.mark.parametrize(
    "target",
    [
        "deliberation.topic:999999999",
        "deliberation.topic:abc",
        "deliberation.topic:",
        "deliberation.topic",
        "deliberation.hall:{hall}",  # a hall is not followable
        "councils.councilpage:{council}",
        "nosuchapp.model:1",
        "",
    ],
)
def test_following_something_that_cannot_be_followed_is_not_found(
    client, resident, hall, tree, target
):
    client.force_login(resident)
    target = target.format(hall=hall.pk, council=tree["village"].pk)
    response = client.post(reverse("notifications:follow"), {"target": target})
    assert response.status_code == 404
    assert not Follow.objects.exists()


def test_a_topic_one_may_not_see_cannot_be_followed(client, tree, private_topic):
    client.force_login(member(tree["other_village"]))
    assert private_topic.get_absolute_url()  # exists, but is members-only
    response = client.post(
        reverse("notifications:follow"), {"target": f"deliberation.topic:{private_topic.pk}"}
    )
    assert response.status_code == 403
    assert not Follow.objects.exists()


def test_following_does_not_redirect_to_another_site(client, topic, resident):
    client.force_login(resident)
    response = client.post(
        reverse("notifications:follow"),
        {"target": f"deliberation.topic:{topic.pk}", "next": "https://evil.example/"},
    )
    assert response.status_code == 302 and "evil.example" not in response.url
