"""A hall message made only of invisible characters is refused, on every path (issue 13, 15).

The check lives in core.text and runs in deliberation.services.post_message, which the form view
and the websocket consumer both call.
"""

import pytest
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import translation
from django.utils.translation import gettext

from deliberation import services
from deliberation.models import Message

pytestmark = pytest.mark.django_db

INVISIBLE_BODIES = [
    "\u200b",
    "\u200b\u200c\u200d\u2060\ufeff",
    "\u3000\u3000",  # ideographic spaces (strip() keeps nothing either)
    "\u3164\u3164\u3164",  # Hangul filler
    "\u2800",  # braille blank
    "\u202e\u202c",  # direction overrides alone
    "\u00ad\u034f",  # soft hyphen, combining grapheme joiner
    "\u200e\u200f\u061c",  # direction marks
]
REFUSAL = "Write something visible: spaces and invisible characters alone are not a message."


@pytest.mark.parametrize("body", INVISIBLE_BODIES)
def test_the_service_refuses_an_invisible_message(topic, resident, body):
    with pytest.raises(ValidationError) as refused:
        services.post_message(author=resident, topic=topic, body=body)
    assert refused.value.code == "empty"
    assert not Message.objects.filter(topic=topic).exists()


@pytest.mark.parametrize("body", ["好", "\u200b好", "👍", "1", "a\u0301"])
def test_a_visible_message_with_invisible_characters_around_it_is_kept(topic, resident, body):
    assert services.post_message(author=resident, topic=topic, body=body).created


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_form_explains_the_refusal(topic, resident, language):
    client = Client()
    client.cookies["django_language"] = language
    client.force_login(resident)
    response = client.post(f"/halls/topics/{topic.pk}/post/", {"body": "\u200b\u200b"})
    assert response.status_code == 400
    with translation.override(language):
        assert gettext(REFUSAL) in response.content.decode()
    assert not Message.objects.filter(topic=topic).exists()
