"""Races between task workers, on PostgreSQL with real connections in threads: two senders never
claim the same delivery, never both take the last SMS of a council's budget, and two
transactions telling the same person of the same event tell them once."""

import threading

import pytest
from django.db import connection
from freezegun import freeze_time

from councils.models import Role
from notifications import delivery, services
from notifications.kinds import Kind
from notifications.models import Delivery, Notification, SmsSpend
from tests.councils.factories import member

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def together(work, count: int) -> list:
    """Run `work(n)` in `count` threads released at once; returns results, raises errors."""
    barrier = threading.Barrier(count)
    results, errors = [None] * count, []

    def run(n):
        try:
            barrier.wait()
            results[n] = work(n)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    return results


@pytest.fixture(autouse=True)
def queue_only(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


@freeze_time("2026-12-01 02:00:00+00:00", real_asyncio=True)
def test_two_senders_never_claim_the_same_delivery(tree):
    people = [member(tree["village"]) for _ in range(30)]
    services.notify(
        kind=Kind.TOPIC_ANSWERED, recipients=people, event_key="e", url="/", params={"title": "t"}
    )
    claimed = together(lambda _n: [d.pk for d in delivery.claim(limit=10)], 4)
    flat = [pk for batch in claimed for pk in batch]
    assert len(flat) == len(set(flat)) == Delivery.objects.filter(channel="sms").count()


def test_the_last_sms_of_a_budget_is_taken_once(tree, settings):
    settings.YISHI_NOTIFY_SMS_MONTHLY_PER_COUNCIL = 5
    village = tree["village"]
    taken = together(lambda _n: delivery.take_from_council_budget(village.pk), 8)
    assert taken.count(True) == 5
    assert SmsSpend.objects.get().count == 5


def test_one_event_raised_twice_at_once_tells_each_person_once(tree):
    people = [member(tree["village"], Role.RESIDENT) for _ in range(5)]

    def tell(_n):
        return len(
            services.notify(
                kind=Kind.TOPIC_CLOSED,
                recipients=people,
                event_key="same-event",
                url="/",
                params={"title": "t"},
            )
        )

    together(tell, 3)
    assert Notification.objects.filter(event_key="same-event").count() == 5
    assert Delivery.objects.values("notification").distinct().count() <= 5
