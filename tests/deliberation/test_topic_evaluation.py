"""评事: the asker rates the committee's answer, once; and the answer reaches an open page live."""

import pytest
from asgiref.sync import sync_to_async
from django.core.exceptions import PermissionDenied, ValidationError

from councils.models import Role
from deliberation import services
from deliberation.models import TopicEvent, TopicRating, TopicStatus
from tests.councils.factories import member
from tests.deliberation.factories import HallFactory, TopicFactory
from tests.deliberation.test_live import open_socket


@pytest.fixture
def answered(topic, committee):
    services.answer_topic(actor=committee, topic=topic, answer="下月开工，预计两周。")
    topic.refresh_from_db()
    return topic


def rate_url(topic) -> str:
    return f"/halls/topics/{topic.pk}/rate/"


# --- the service ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_asker_rates_the_answer_once_and_it_is_logged(answered, resident):
    rating = services.rate_topic(user=resident, topic=answered, score=4, comment=" 基本满意 ")
    assert (rating.score, rating.comment, rating.author) == (4, "基本满意", resident)
    event = TopicEvent.objects.filter(topic=answered).last()
    assert event.kind == "rated" and event.actor == resident and event.note == "4/5 · 基本满意"
    with pytest.raises(ValidationError) as error:
        services.rate_topic(user=resident, topic=answered, score=1)
    assert error.value.code == "already_rated"
    assert TopicRating.objects.get().score == 4


@pytest.mark.django_db
def test_a_rating_is_part_of_the_record_and_cannot_change(answered, resident):
    rating = services.rate_topic(user=resident, topic=answered, score=2)
    rating.score = 5
    with pytest.raises(ValidationError):
        rating.save()
    with pytest.raises(ValidationError):
        rating.delete()
    assert TopicRating.objects.get().score == 2


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["other_resident", "committee", "representative", "outsider"])
def test_only_the_asker_may_rate(tree, answered, committee, who):
    if who == "committee":
        user = committee
    elif who == "representative":
        user = member(tree["village"], Role.REPRESENTATIVE)
    elif who == "outsider":
        user = member(tree["other_village"])
    else:
        user = member(tree["village"])
    with pytest.raises(PermissionDenied):
        services.rate_topic(user=user, topic=answered, score=5)
    assert not TopicRating.objects.exists()


@pytest.mark.django_db
def test_an_unanswered_topic_cannot_be_rated(topic, resident, committee):
    services.change_topic_status(actor=committee, topic=topic, status=TopicStatus.TAKEN_UP)
    with pytest.raises(PermissionDenied):
        services.rate_topic(user=resident, topic=topic, score=5)
    assert not TopicRating.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("score", [0, 6, -1, True, "5", 4.5, None])
def test_a_score_outside_one_to_five_is_refused(answered, resident, score):
    with pytest.raises(ValidationError):
        services.rate_topic(user=resident, topic=answered, score=score)
    assert not TopicRating.objects.exists()


@pytest.mark.django_db
def test_a_comment_longer_than_500_characters_is_refused(answered, resident):
    with pytest.raises(ValidationError):
        services.rate_topic(user=resident, topic=answered, score=3, comment="好" * 501)
    assert not TopicRating.objects.exists()


@pytest.mark.django_db
def test_answering_an_open_topic_takes_it_up_and_logs_both(topic, committee):
    services.answer_topic(actor=committee, topic=topic, answer="已安排")
    topic.refresh_from_db()
    assert topic.status == TopicStatus.TAKEN_UP
    assert list(topic.events.values_list("kind", flat=True)) == ["taken_up", "answered"]
    services.change_topic_status(actor=committee, topic=topic, status=TopicStatus.DECIDED)
    services.answer_topic(actor=committee, topic=topic, answer="已安排，下周开工")
    topic.refresh_from_db()
    assert topic.status == TopicStatus.DECIDED  # a later answer never moves a topic back


# --- the pages ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_asker_rates_through_the_topic_page_and_the_hall_shows_the_average(
    client, tree, hall, answered, resident, committee
):
    client.force_login(resident)
    page = client.get(answered.get_absolute_url()).content.decode()
    assert rate_url(answered) in page and "5 · very satisfied" in page
    response = client.post(rate_url(answered), {"rating-score": "4", "rating-comment": "还行"})
    assert response.status_code == 302 and response["Location"].endswith("#rating")
    page = client.get(answered.get_absolute_url()).content.decode()
    assert "4/5" in page and "还行" in page and rate_url(answered) not in page

    # A second asker in the same hall rates 2: the hall shows 3.0 from 2 ratings.
    second_asker = member(tree["village"])
    second = TopicFactory(hall=hall, author=second_asker)
    services.answer_topic(actor=committee, topic=second, answer="不在本村职责范围")
    services.rate_topic(user=second_asker, topic=second, score=2)
    hall_page = client.get(f"/halls/{hall.pk}/").content.decode()
    assert "3.0 out of 5 (2 ratings)" in hall_page


@pytest.mark.django_db
def test_a_hall_without_ratings_says_so(client, hall):
    assert "No asker has rated" in client.get(f"/halls/{hall.pk}/").content.decode()


@pytest.mark.django_db
def test_the_form_is_not_shown_to_others_or_before_the_answer(client, tree, topic, resident):
    client.force_login(resident)
    assert rate_url(topic) not in client.get(topic.get_absolute_url()).content.decode()
    client.force_login(member(tree["village"]))
    assert rate_url(topic) not in client.get(topic.get_absolute_url()).content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize("who", ["other_resident", "committee", "anonymous"])
def test_others_cannot_rate_through_the_page(client, tree, answered, committee, who):
    if who == "committee":
        client.force_login(committee)
    elif who == "other_resident":
        client.force_login(member(tree["village"]))
    response = client.post(rate_url(answered), {"rating-score": "5"})
    if who == "anonymous":
        assert response.status_code == 302 and "/accounts/" in response["Location"]
    else:
        assert response.status_code == 403
    assert not TopicRating.objects.exists()


@pytest.mark.django_db
def test_rating_an_unanswered_topic_through_the_page_is_refused(client, topic, resident):
    client.force_login(resident)
    assert client.post(rate_url(topic), {"rating-score": "5"}).status_code == 403
    assert not TopicRating.objects.exists()


@pytest.mark.django_db
def test_rating_twice_through_the_page_keeps_the_first(client, answered, resident):
    client.force_login(resident)
    client.post(rate_url(answered), {"rating-score": "5"})
    response = client.post(rate_url(answered), {"rating-score": "1"}, follow=True)
    assert "already rated" in response.content.decode()
    assert list(TopicRating.objects.values_list("score", flat=True)) == [5]


@pytest.mark.django_db
def test_a_rating_without_a_score_shows_the_form_again(client, answered, resident):
    client.force_login(resident)
    response = client.post(rate_url(answered), {"rating-comment": "没选分"})
    assert response.status_code == 400 and "Choose a score" in response.content.decode()
    assert not TopicRating.objects.exists()


@pytest.mark.django_db
def test_a_private_halls_asker_who_left_cannot_rate(client, tree, committee):
    from councils.models import Membership, MembershipStatus

    asker = member(tree["village"])
    hall = HallFactory(council=tree["village"], is_public=False)
    topic = TopicFactory(hall=hall, author=asker)
    services.answer_topic(actor=committee, topic=topic, answer="好")
    Membership.objects.filter(user=asker).update(status=MembershipStatus.REVOKED)
    client.force_login(asker)
    assert client.post(rate_url(topic), {"rating-score": "5"}).status_code == 403
    assert not TopicRating.objects.exists()


# --- live ----------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_an_answer_reaches_the_askers_open_page_with_the_new_status(
    topic, resident, committee
):
    asker, _ = await open_socket(topic.pk, resident)
    watcher, _ = await open_socket(topic.pk)  # anonymous, public hall
    try:
        await sync_to_async(services.answer_topic)(
            actor=committee, topic=topic, answer="下月开工 <b>两周</b>"
        )
        for socket in (asker, watcher):
            frame = await socket.receive_json_from(timeout=3)
            assert frame["type"] == "answered" and frame["status"] == "taken_up"
            assert frame["answer"] == "下月开工 <b>两周</b>"  # text, never interpreted
            assert frame["answered_at"]
            assert await socket.receive_nothing()
    finally:
        await asker.disconnect()
        await watcher.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_reconnecting_page_gets_the_answer_it_missed(topic, resident, committee):
    await sync_to_async(services.answer_topic)(actor=committee, topic=topic, answer="已修好")
    socket, frames = await open_socket(topic.pk, resident, after=0)
    try:
        answered = [f for f in frames if f["type"] == "answered"]
        assert answered and answered[0]["answer"] == "已修好"
        assert answered[0]["status"] == "taken_up"
        assert frames[-1]["type"] == "ready"
    finally:
        await socket.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_first_connect_to_an_unanswered_topic_sends_no_answer(topic, resident):
    socket, frames = await open_socket(topic.pk, resident, after=0)
    try:
        assert not [f for f in frames if f["type"] == "answered"]
    finally:
        await socket.disconnect()
