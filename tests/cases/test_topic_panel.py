"""A hall topic's page shows the committee how to turn it into a case, and everyone the cases
made from it that they may see (deliberation.registry, filled by cases)."""

import pytest

from cases import services
from cases.models import Category, Whistle
from tests.deliberation.factories import HallFactory, TopicFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def topic(tree, people):
    hall = HallFactory(council=tree["village"], title="柳树村议事厅")
    return TopicFactory(hall=hall, author=people["resident"], title="村口路灯坏了")


def page(client, user, topic):
    if user is not None:
        client.force_login(user)
    response = client.get(topic.get_absolute_url())
    assert response.status_code == 200
    return response.content.decode()


def test_the_committee_sees_the_way_to_make_a_case(client, people, topic):
    html = page(client, people["committee"], topic)
    assert f"/cases/topics/{topic.pk}/escalate/" in html


@pytest.mark.parametrize("who", [None, "resident", "neighbour", "supervisor", "grid_worker"])
def test_others_do_not(client, people, topic, who):
    html = page(client, people[who] if who else None, topic)
    assert "/escalate/" not in html
    assert 'id="topic-cases"' not in html


def test_once_escalated_the_case_is_linked_and_not_made_twice(client, people, topic):
    case = services.escalate_topic(
        user=people["committee"], topic=topic, level=Whistle.PRIORITY, category=Category.ROADS
    )
    html = page(client, people["committee"], topic)
    assert f"/cases/{case.pk}/" in html
    assert "/escalate/" not in html  # an open case from it already exists
    # A public matter's case is listed to a resident too; the way to escalate is not.
    client.logout()
    html = page(client, people["resident"], topic)
    assert f"/cases/{case.pk}/" in html and "/escalate/" not in html
