"""Issue 13, point 8: chain heads kept outside the database catch a truncated or rewound chain.

The attacker here can write the whole database: they cut the chain back and append other
entries, recomputing every hash and the head, so the chain is consistent again on its own. The
anchors a township pulled earlier (a file), or copied off a printed notice, still catch it.
"""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from disclosure.anchors import AnchorFileError, check_anchor, parse_anchors
from disclosure.journal import verify_journal
from disclosure.models import ChainEntry, ChainHead
from disclosure.services import verify_chain
from tests.disclosure.factories import people, published_statement

pytestmark = pytest.mark.django_db


@pytest.fixture
def p(tree):
    return people(tree)


@pytest.fixture
def three(tree, p):
    return [published_statement(tree["village"], p, title=f"第{n}期") for n in (1, 2, 3)]


def sql(statement, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def pull(tree, path):
    call_command(
        "pull_chain_heads",
        "--township",
        str(tree["township"].pk),
        "--out",
        str(path),
        stdout=StringIO(),
    )


def verify(*args):
    out, err = StringIO(), StringIO()
    try:
        call_command("verify_ledgers", *args, stdout=out, stderr=err)
    except CommandError as error:
        return error.returncode, err.getvalue()
    return 0, out.getvalue()


def rewind(village, keep: int):
    """Cut the ledger chain back to `keep` entries as a database writer would, leaving it
    self-consistent: the dropped records are turned back into drafts, the head is reset."""
    dropped = list(
        ChainEntry.objects.filter(council=village, position__gt=keep).values_list(
            "record_id", flat=True
        )
    )
    sql(
        "DELETE FROM disclosure_chainentry WHERE council_id = %s AND position > %s",
        [village.pk, keep],
    )
    for record_id in dropped:
        sql(
            "UPDATE disclosure_record SET status = 'draft', published_at = NULL WHERE id = %s",
            [record_id],
        )
    last = ChainEntry.objects.get(council=village, position=keep)
    sql(
        "UPDATE disclosure_chainhead SET position = %s, entry_hash = %s WHERE council_id = %s",
        [keep, last.entry_hash, village.pk],
    )


def test_pulled_heads_hold_while_nothing_changes(tree, p, three, tmp_path):
    anchors = tmp_path / "heads.jsonl"
    pull(tree, anchors)
    published_statement(tree["village"], p, title="第4期")  # growing is fine
    pull(tree, anchors)
    assert len(anchors.read_text().splitlines()) == 2  # append-only: one line per pull
    code, out = verify("--anchor", str(anchors))
    assert code == 0 and "anchor(s) held" in out


def test_a_rewind_that_recomputes_every_hash_is_caught_by_the_pulled_heads(
    tree, p, three, tmp_path
):
    village = tree["village"]
    anchors = tmp_path / "heads.jsonl"
    pull(tree, anchors)
    rewind(village, keep=1)
    # ... and two different records are appended in their place, through the real services.
    for n in (2, 3):
        published_statement(village, p, title=f"改写的第{n}期", amounts=["1.00"])
    assert ChainHead.objects.get(council=village).position == 3
    assert verify_chain(council_id=village.pk).ok  # the chain alone looks perfect
    code, errors = verify("--council", str(village.pk), "--anchor", str(anchors))
    assert code == 1
    assert "entry 3 of the ledger chain is not the one anchored" in errors


def test_a_truncated_chain_is_caught_by_the_pulled_heads(tree, three, tmp_path):
    village = tree["village"]
    anchors = tmp_path / "heads.jsonl"
    pull(tree, anchors)
    rewind(village, keep=2)
    assert verify_chain(council_id=village.pk).ok
    code, errors = verify("--council", str(village.pk), "--anchor", str(anchors))
    assert code == 1 and "has 2 entries, but an anchor taken at" in errors


def test_a_rewound_journal_is_caught_by_the_pulled_heads(tree, p, three, tmp_path):
    village = tree["village"]
    anchors = tmp_path / "heads.jsonl"
    pull(tree, anchors)
    head = village.journal_head
    keep = head.position - 1
    last = village.journal.get(position=head.position)
    sql("DELETE FROM disclosure_journalentry WHERE id = %s", [last.pk])
    sql("DELETE FROM disclosure_recordevent WHERE id = %s", [last.event_id])
    previous = village.journal.get(position=keep)
    sql(
        "UPDATE disclosure_journalhead SET position = %s, entry_hash = %s WHERE council_id = %s",
        [keep, previous.entry_hash, village.pk],
    )
    assert verify_journal(village.pk).ok
    code, errors = verify("--council", str(village.pk), "--anchor", str(anchors))
    assert code == 1 and "journal chain has" in errors


def test_the_anchor_copied_off_a_printed_notice_catches_a_rewind(client, tree, p, three, tmp_path):
    village = tree["village"]
    page = client.get(f"/disclosure/records/{three[2].pk}/notice/").content.decode()
    head = ChainHead.objects.get(council=village)
    line_on_paper = f"{village.pk} ledger 3 {head.entry_hash}"
    assert line_on_paper in page and "journal" in page
    paper = tmp_path / "paper.txt"
    paper.write_text("# copied from the noticeboard\n" + line_on_paper + "\n")
    assert verify("--anchor", str(paper))[0] == 0
    rewind(village, keep=2)
    published_statement(village, p, title="另一份第3期", amounts=["2.00"])
    code, errors = verify("--anchor", str(paper))
    assert code == 1 and "rewritten" in errors


def test_head_json_gives_every_village_of_a_township(client, tree, p, three):
    village = tree["village"]
    document = client.get(f"/disclosure/{tree['township'].pk}/head.json").json()
    by_chain = {(a["council"], a["chain"]): a for a in document["anchors"]}
    ledger = by_chain[(village.pk, "ledger")]
    assert ledger["position"] == 3
    assert ledger["hash"] == ChainHead.objects.get(council=village).entry_hash
    assert (village.pk, "journal") in by_chain
    assert by_chain[(tree["other_village"].pk, "ledger")]["position"] == 0  # nothing yet
    assert (tree["far_village"].pk, "ledger") not in by_chain  # another township's
    one = client.get(f"/disclosure/{village.pk}/head.json").json()
    assert {a["council"] for a in one["anchors"]} == {village.pk}
    # what the endpoint returns is itself an anchor file
    assert all(check_anchor(a) is None for a in parse_anchors(json.dumps(one)))


@pytest.mark.parametrize(
    "text",
    [
        "42 ledger 3",
        "42 ledger x " + "a" * 64,
        "42 ledger 3 " + "z" * 64,
        "42 nonsense 3 " + "a" * 64,
        '{"council": 42, "position": 3}',
        "{not json",
    ],
)
def test_a_malformed_anchor_file_is_refused(text, tmp_path):
    with pytest.raises(AnchorFileError):
        parse_anchors(text)
    bad = tmp_path / "bad.txt"
    bad.write_text(text)
    assert verify("--anchor", str(bad))[0] == 2


def test_all_three_anchor_forms_are_read():
    digest = "ab" * 32
    pretty = json.dumps(
        {"anchors": [{"council": 1, "chain": "journal", "position": 2, "hash": digest}]}, indent=2
    )
    lines = (
        f'{{"council": 1, "position": 2, "hash": "{digest}"}}\n'
        f"1 ledger 2 {digest.upper()}\n"
        + json.dumps(
            {"anchors": [{"council": 1, "chain": "journal", "position": 2, "hash": digest}]}
        )
    )
    assert [a.chain for a in parse_anchors(pretty)] == ["journal"]
    assert [(a.chain, a.hash) for a in parse_anchors(lines)] == [
        ("ledger", digest),
        ("ledger", digest),
        ("journal", digest),
    ]
