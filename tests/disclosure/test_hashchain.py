"""The hash chain: verification passes on untouched data and names what raw SQL changed."""

import hashlib
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from disclosure.hashchain import canonical_bytes, chain_hash, content_of, records_with_content
from disclosure.models import GENESIS_HASH, ChainEntry, ChainHead, Kind, RecordType
from disclosure.services import verify_chain
from tests.disclosure.factories import draft, line, people, publish, published_statement

pytestmark = pytest.mark.django_db


@pytest.fixture
def p(tree):
    return people(tree)


@pytest.fixture
def chain(tree, p):
    """Three published records in the village, one in another village."""
    village = tree["village"]
    records = [
        published_statement(village, p, amounts=["100.00", "5.00"], title=f"第{n}期")
        for n in range(1, 4)
    ]
    other = people(tree)  # committee of the village again, harmless
    return village, records, other


def sql(statement, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def problems_for(village):
    report = verify_chain(council_id=village.pk)
    return report, [str(problem) for problem in report.problems]


def test_untouched_chain_verifies_and_links(chain):
    village, records, _ = chain
    report, problems = problems_for(village)
    assert report.ok, problems
    entries = list(ChainEntry.objects.filter(council=village).order_by("position"))
    assert [e.position for e in entries] == [1, 2, 3]
    assert [e.record_id for e in entries] == [r.pk for r in records]
    previous = GENESIS_HASH
    for entry in entries:
        assert entry.previous_hash == previous
        assert (
            entry.entry_hash == hashlib.sha256((previous + entry.content_hash).encode()).hexdigest()
        )
        previous = entry.entry_hash
    head = ChainHead.objects.get(council=village)
    assert (head.position, head.entry_hash) == (3, previous) and report.head_hash == previous


def test_raw_update_of_an_amount_is_caught_and_names_the_record(chain):
    village, records, _ = chain
    target = records[1].lines.get(position=1)
    sql("UPDATE disclosure_lineitem SET income = %s WHERE id = %s", ["1000.00", target.pk])
    report, problems = problems_for(village)
    assert not report.ok
    assert [p.record_id for p in report.problems] == [records[1].pk]
    assert "第2期" in problems[0] and "no longer matches" in problems[0]


def test_raw_update_of_the_title_or_publication_time_is_caught(chain):
    village, records, _ = chain
    sql("UPDATE disclosure_record SET body = %s WHERE id = %s", ["另有说法", records[0].pk])
    sql(
        "UPDATE disclosure_record SET published_at = %s WHERE id = %s",
        ["2020-01-01 00:00:00", records[2].pk],
    )
    report, _ = problems_for(village)
    assert {p.record_id for p in report.problems} == {records[0].pk, records[2].pk}


def test_deleting_a_line_is_caught(chain):
    village, records, _ = chain
    sql("DELETE FROM disclosure_lineitem WHERE id = %s", [records[0].lines.get(position=2).pk])
    report, _ = problems_for(village)
    assert [p.record_id for p in report.problems] == [records[0].pk]


def _delete_journal_of(record_id):
    # The steps of a record are in the council's journal too (tests/disclosure/test_journal.py).
    sql(
        "DELETE FROM disclosure_journalentry WHERE event_id IN "
        "(SELECT id FROM disclosure_recordevent WHERE record_id = %s)",
        [record_id],
    )


def test_deleting_a_record_is_caught_and_named(chain):
    village, records, _ = chain
    victim = records[1].pk
    _delete_journal_of(victim)
    for table in ("disclosure_lineitem", "disclosure_recordevent"):
        sql(f"DELETE FROM {table} WHERE record_id = %s", [victim])
    sql("DELETE FROM disclosure_record WHERE id = %s", [victim])
    report, problems = problems_for(village)
    assert [p.record_id for p in report.problems] == [victim]
    assert "deleted" in problems[0]
    sql("DELETE FROM disclosure_chainentry WHERE record_id = %s", [victim])  # keep FKs valid


def test_deleting_a_record_with_its_chain_entry_breaks_the_links(chain):
    village, records, _ = chain
    victim = records[1].pk
    _delete_journal_of(victim)
    for table in ("disclosure_lineitem", "disclosure_recordevent", "disclosure_chainentry"):
        sql(f"DELETE FROM {table} WHERE record_id = %s", [victim])
    sql("DELETE FROM disclosure_record WHERE id = %s", [victim])
    report, problems = problems_for(village)
    assert not report.ok
    assert report.problems[0].record_id == records[2].pk
    assert any("expected position 2" in text for text in problems)


def test_deleting_the_last_entry_is_caught_by_the_head(chain):
    village, records, _ = chain
    sql("DELETE FROM disclosure_chainentry WHERE record_id = %s", [records[2].pk])
    report, problems = problems_for(village)
    assert not report.ok
    assert any("head" in text for text in problems)
    assert any(
        p.record_id == records[2].pk and "not in the chain" in str(p) for p in report.problems
    )


def test_reordering_entries_is_caught(chain):
    village, records, _ = chain
    first, second = (ChainEntry.objects.get(record=r) for r in records[:2])
    sql("UPDATE disclosure_chainentry SET position = 100 WHERE id = %s", [first.pk])
    sql("UPDATE disclosure_chainentry SET position = 1 WHERE id = %s", [second.pk])
    sql("UPDATE disclosure_chainentry SET position = 2 WHERE id = %s", [first.pk])
    report, problems = problems_for(village)
    named = {p.record_id for p in report.problems}
    assert {records[0].pk, records[1].pk} <= named
    assert all("link" in text for text in problems)  # content itself is intact


def test_rewriting_a_stored_hash_is_caught(chain):
    village, records, _ = chain
    sql(
        "UPDATE disclosure_chainentry SET content_hash = %s WHERE record_id = %s",
        ["f" * 64, records[0].pk],
    )
    report, _ = problems_for(village)
    assert records[0].pk in {p.record_id for p in report.problems}


def test_a_record_marked_published_outside_the_chain_is_caught(tree, p, chain):
    village, _records, _ = chain
    sneaky = draft(village, p.committee, title="没审就公开")
    sql(
        "UPDATE disclosure_record SET status = 'published', published_at = %s WHERE id = %s",
        ["2025-04-01 00:00:00", sneaky.pk],
    )
    report, _ = problems_for(village)
    assert [p.record_id for p in report.problems] == [sneaky.pk]


def test_verify_ledgers_command(chain):
    village, records, _ = chain
    out = StringIO()
    call_command("verify_ledgers", stdout=out)
    assert f"council {village.pk}: OK, 3 entries" in out.getvalue()

    sql(
        "UPDATE disclosure_lineitem SET income = %s WHERE record_id = %s AND position = 1",
        ["99.99", records[2].pk],
    )
    err = StringIO()
    with pytest.raises(CommandError) as error:
        call_command("verify_ledgers", "--council", str(village.pk), stdout=StringIO(), stderr=err)
    assert error.value.returncode == 1
    assert f"record #{records[2].pk}" in err.getvalue() and "第3期" in err.getvalue()


def test_chains_are_per_council(tree, p, chain):
    village, _records, _ = chain
    other_people = people({**tree, "village": tree["other_village"]})
    published_statement(tree["other_village"], other_people)
    entry = ChainEntry.objects.get(council=tree["other_village"])
    assert (entry.position, entry.previous_hash) == (1, GENESIS_HASH)
    assert verify_chain(council_id=tree["other_village"].pk).ok
    assert verify_chain(council_id=village.pk).ok


def test_the_json_export_lets_anyone_recompute_every_hash(client, chain):
    village, records, _ = chain
    data = json.loads(client.get(f"/disclosure/{village.pk}/chain.json").content)
    previous = data["genesis"]
    for entry in data["entries"]:
        canonical = entry["canonical"].encode("utf-8")
        assert hashlib.sha256(canonical).hexdigest() == entry["content_hash"]
        assert (
            json.dumps(
                entry["content"], sort_keys=True, ensure_ascii=False, separators=(",", ":")
            ).encode()
            == canonical
        )
        assert entry["previous_hash"] == previous
        assert (
            hashlib.sha256((previous + entry["content_hash"]).encode()).hexdigest()
            == entry["entry_hash"]
        )
        previous = entry["entry_hash"]
    assert data["head"] == {"position": 3, "entry_hash": previous}
    assert data["entries"][0]["content"]["lines"][0]["income"] == "100.00"


def test_hashed_content_holds_no_personal_data_of_users(tree, p):
    record = draft(
        tree["village"],
        p.committee,
        kind=Kind.VILLAGE,
        record_type=RecordType.WELFARE_LIST,
        title="2025年3月低保发放名单",
    )
    line(record, p.committee, expense="650.00", description="低保A类", counterparty="王小英")
    publish(record, committee=p.committee, supervisor=p.supervisor)
    canonical = canonical_bytes(content_of(records_with_content().get(pk=record.pk))).decode()
    for person in (p.committee, p.supervisor):
        for value in (person.display_name, person.real_name, person.phone):
            assert value not in canonical
    assert "王*英" in canonical and "王小英" not in canonical
    assert (
        chain_hash(GENESIS_HASH, "a" * 64)
        == hashlib.sha256((GENESIS_HASH + "a" * 64).encode()).hexdigest()
    )
