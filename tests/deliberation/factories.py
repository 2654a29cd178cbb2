"""Factories for halls and topics; messages are made with the real services."""

import factory
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.cached_db import SessionStore

from deliberation.models import Hall, Topic, TopicCategory
from tests.councils.factories import UserFactory


class HallFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Hall

    title = factory.Sequence(lambda n: f"议事厅{n}")
    description = "村里的大事小事，大家商量着办。"
    is_public = True


class TopicFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Topic

    hall = factory.SubFactory(HallFactory)
    author = factory.SubFactory(UserFactory)
    title = factory.Sequence(lambda n: f"修村口的路 {n}")
    description = "村口的路下雨就积水，老人孩子走路不方便。"
    category = TopicCategory.ROADS


def session_cookie(user) -> str:
    """A signed-in session for `user`, as the Cookie header a browser would send."""
    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "councils.backends.AuthenticationBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.save()
    return f"sessionid={session.session_key}"
