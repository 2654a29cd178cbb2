"""The council's journal: a second hash chain of every step, question and answer.

The ledger chain (hashchain.py) proves what was published. The journal proves how it got there
and what residents were told: each RecordEvent (drafted, edited, lines and files added, submitted,
signed off, objected, published, corrected), each question and each answer is appended, in the
order it happened, with the same linking rule

    entry_hash = sha256(previous_hash + content_hash)

so that editing a sign-off, deleting an objection or rewording an answer afterwards breaks the
journal, and `verify_ledgers` names the entry. The content is documented in docs/ledgers.md. Who
acted is hashed as the account's number (RecordEvent.actor_number), never a name or phone.
"""

from django.db.models import Q
from django.utils.translation import gettext as _

from disclosure.hashchain import (
    ChainReport,
    Problem,
    _instant,
    canonical_bytes,
    chain_hash,
    sha256_hex,
)
from disclosure.models import (
    GENESIS_HASH,
    JournalEntry,
    JournalHead,
    JournalKind,
    Question,
    RecordEvent,
)

JOURNAL_VERSION = 1


def event_content(event: RecordEvent, council_id: int) -> dict:
    return {
        "v": JOURNAL_VERSION,
        "type": JournalKind.EVENT.value,
        "council": council_id,
        "record": event.record_id,
        "event": event.pk,
        "action": event.action,
        "actor": event.actor_number,
        "role": event.actor_role,
        "reason": event.reason,
        "at": _instant(event.created),
    }


def question_content(question: Question) -> dict:
    return {
        "v": JOURNAL_VERSION,
        "type": JournalKind.QUESTION.value,
        "council": question.council_id,
        "record": question.record_id,
        "question": question.pk,
        "text": question.text,
        "asked_at": _instant(question.asked_at),
        "due_at": _instant(question.due_at),
    }


def answer_content(question: Question) -> dict:
    return {
        "v": JOURNAL_VERSION,
        "type": JournalKind.ANSWER.value,
        "council": question.council_id,
        "record": question.record_id,
        "question": question.pk,
        "answer": question.answer,
        "answered_at": _instant(question.answered_at),
    }


def _append(council_id: int, *, kind: str, content: dict, event=None, question=None):
    # Lock the council's journal head: appends of one council take turns, so it never forks.
    JournalHead.objects.get_or_create(council_id=council_id)
    head = JournalHead.objects.select_for_update().get(council_id=council_id)
    content_hash = sha256_hex(canonical_bytes(content))
    entry = JournalEntry.objects.create(
        council_id=council_id,
        position=head.position + 1,
        kind=kind,
        event=event,
        question=question,
        previous_hash=head.entry_hash,
        content_hash=content_hash,
        entry_hash=chain_hash(head.entry_hash, content_hash),
    )
    head.position, head.entry_hash = entry.position, entry.entry_hash
    head.save(update_fields=["position", "entry_hash"])
    return entry


def journal_event(event: RecordEvent, council_id: int) -> JournalEntry:
    """Append a just-created RecordEvent. Call inside transaction.atomic."""
    return _append(
        council_id, kind=JournalKind.EVENT, content=event_content(event, council_id), event=event
    )


def journal_question(question: Question) -> JournalEntry:
    return _append(
        question.council_id,
        kind=JournalKind.QUESTION,
        content=question_content(question),
        question=question,
    )


def journal_answer(question: Question) -> JournalEntry:
    return _append(
        question.council_id,
        kind=JournalKind.ANSWER,
        content=answer_content(question),
        question=question,
    )


def verify_journal(council_id: int, *, batch_size: int = 1000) -> ChainReport:
    """Recompute a council's journal from the RecordEvent and Question rows; name each mismatch.

    Catches a step, question or answer edited afterwards (content differs), who acted changed
    (actor differs from the hashed number), entries deleted, inserted or reordered, a head that
    does not match, and steps, questions or answers that are not in the journal at all.
    """
    report = ChainReport(council_id=council_id)
    entries = list(
        JournalEntry.objects.filter(council_id=council_id)
        .order_by("position")
        .values(
            "position",
            "kind",
            "event_id",
            "question_id",
            "previous_hash",
            "content_hash",
            "entry_hash",
        )
    )
    expected_previous = GENESIS_HASH
    for start in range(0, len(entries), batch_size):
        batch = entries[start : start + batch_size]
        events = RecordEvent.objects.in_bulk([e["event_id"] for e in batch if e["event_id"]])
        questions = Question.objects.in_bulk([e["question_id"] for e in batch if e["question_id"]])
        for offset, entry in enumerate(batch):
            position = entry["position"]

            def problem(message, record_id=None, position=position):
                report.problems.append(
                    Problem(council_id, position, record_id, _("journal") + ": " + message)
                )

            if position != start + offset + 1:
                problem(
                    _("entries are missing or out of order: expected position %(n)s here")
                    % {"n": start + offset + 1}
                )
            if entry["previous_hash"] != expected_previous:
                problem(_("does not link to the entry before it (reordered or removed entries)"))
            if entry["entry_hash"] != chain_hash(entry["previous_hash"], entry["content_hash"]):
                problem(_("the entry's own hash was altered"))
            expected_previous = entry["entry_hash"]
            if entry["kind"] == JournalKind.EVENT:
                event = events.get(entry["event_id"])
                if event is None:
                    problem(_("a step of a record was deleted"))
                    continue
                if event.actor_id is not None and event.actor_id != event.actor_number:
                    problem(_("who took this step was changed"), event.record_id)
                content = event_content(event, council_id)
                what = _("the step “%(action)s” was changed afterwards") % {
                    "action": event.get_action_display()
                }
            else:
                question = questions.get(entry["question_id"])
                if question is None:
                    problem(_("a question was deleted"))
                    continue
                if entry["kind"] == JournalKind.QUESTION:
                    content = question_content(question)
                    what = _("question #%(id)s was changed afterwards") % {"id": question.pk}
                else:
                    content = answer_content(question)
                    what = _("the answer to question #%(id)s was changed afterwards") % {
                        "id": question.pk
                    }
            if sha256_hex(canonical_bytes(content)) != entry["content_hash"]:
                problem(what, content["record"])
    report.length = len(entries)
    report.head_hash = expected_previous
    head = JournalHead.objects.filter(council_id=council_id).first()
    if (entries or head is not None) and (
        head is None or head.position != len(entries) or head.entry_hash != expected_previous
    ):
        report.problems.append(
            Problem(
                council_id,
                entries[-1]["position"] if entries else None,
                None,
                _("journal") + ": " + _("the head does not match the last entry"),
            )
        )
    outside = (
        RecordEvent.objects.filter(record__council_id=council_id, journal_entry__isnull=True)
        .values_list("record_id", "action")
        .order_by("pk")
    )
    for record_id, action in outside:
        report.problems.append(
            Problem(
                council_id,
                None,
                record_id,
                _("journal")
                + ": "
                + _("a step “%(action)s” is not in the journal (added outside Yishi?)")
                % {"action": action},
            )
        )
    questions = Question.objects.filter(council_id=council_id)
    for question_id, record_id in questions.exclude(
        journal_entries__kind=JournalKind.QUESTION
    ).values_list("pk", "record_id"):
        report.problems.append(
            Problem(
                council_id,
                None,
                record_id,
                _("journal")
                + ": "
                + _("question #%(id)s is not in the journal") % {"id": question_id},
            )
        )
    answered_outside = questions.filter(Q(answered_at__isnull=False) | ~Q(answer="")).exclude(
        journal_entries__kind=JournalKind.ANSWER
    )
    for question_id, record_id in answered_outside.values_list("pk", "record_id"):
        report.problems.append(
            Problem(
                council_id,
                None,
                record_id,
                _("journal")
                + ": "
                + _("the answer to question #%(id)s is not in the journal") % {"id": question_id},
            )
        )
    return report


def councils_with_journals() -> list[int]:
    ids = set(JournalHead.objects.values_list("council_id", flat=True))
    ids |= set(JournalEntry.objects.values_list("council_id", flat=True).distinct())
    ids |= set(RecordEvent.objects.values_list("record__council_id", flat=True).distinct())
    ids |= set(Question.objects.values_list("council_id", flat=True).distinct())
    return sorted(ids)
