"""Concurrent publishes in one council keep one linear chain (PostgreSQL, real connections).

SQLite serialises writes, so this proves something only on PostgreSQL. Each thread has its own
database connection. A pause is slipped in between reading the chain head and appending the
entry, so without the head lock every thread would read the same head: the test then sees
failed publishes (duplicate positions) or a fork (two entries with the same previous hash).
"""

import threading
import time

import pytest
from django.db import connection

from core.models import User
from disclosure import hashchain, services
from disclosure.models import GENESIS_HASH, ChainEntry, ChainHead, Record
from tests.disclosure.factories import draft, line, people, signed_off

THREADS = 6


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_publishes_keep_one_linear_chain(tree, monkeypatch):
    village = tree["village"]
    p = people(tree)
    records = []
    for n in range(THREADS):
        record = draft(village, p.committee, title=f"并发{n}")
        line(record, p.committee, income="1.00")
        records.append(signed_off(record, committee=p.committee, supervisor=p.supervisor))

    original = hashchain.records_with_content

    def slow_records_with_content():
        time.sleep(0.15)  # widen the window between reading the head and writing the entry
        return original()

    monkeypatch.setattr(hashchain, "records_with_content", slow_records_with_content)

    barrier = threading.Barrier(THREADS)
    errors = []

    def publish(record_id):
        try:
            committee = User.objects.get(pk=p.committee.pk)  # own instance, own role cache
            record = Record.objects.get(pk=record_id)
            barrier.wait(timeout=10)
            services.publish_record(record=record, by=committee)
        except Exception as error:  # noqa: BLE001 - collected and asserted below
            errors.append(repr(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=publish, args=(r.pk,)) for r in records]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert not errors, errors
    entries = list(ChainEntry.objects.filter(council=village).order_by("position"))
    assert [e.position for e in entries] == list(range(1, THREADS + 1))
    assert sorted(e.record_id for e in entries) == sorted(r.pk for r in records)
    previous = GENESIS_HASH
    for entry in entries:
        assert entry.previous_hash == previous, "the chain forked"
        previous = entry.entry_hash
    head = ChainHead.objects.get(council=village)
    assert (head.position, head.entry_hash) == (THREADS, previous)
    assert services.verify_chain(council_id=village.pk).ok
