"""Issue 13, point 7: verify_ledgers checks everything that was published, not only records.

Stored files are re-hashed against the SHA-256 taken at upload; every step of a record (sign-off,
objection, publication ...) and every question and answer is in the council's journal, so
editing or deleting one afterwards, even with raw SQL, makes verify_ledgers fail and name it.
"""

from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import connection

from disclosure import services
from disclosure.hashchain import verify_files
from disclosure.journal import verify_journal
from disclosure.models import Action, JournalEntry, JournalHead, Question, RecordEvent
from tests.disclosure.factories import draft, line, people, publish

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n% voucher 2025-03\n"


@pytest.fixture
def p(tree):
    return people(tree)


@pytest.fixture
def published(tree, p, settings, tmp_path):
    """A record with a voucher, objected to once, then signed off, published and questioned."""
    settings.MEDIA_ROOT = tmp_path
    village = tree["village"]
    record = draft(village, p.committee)
    line(record, p.committee, income=Decimal("100.00"))
    services.attach_file(
        record=record, by=p.committee, upload=SimpleUploadedFile("voucher.pdf", PDF)
    )
    services.submit_for_review(record=record, by=p.committee)
    services.object_to_record(record=record, by=p.supervisor, reason="缺少3月15日的凭证")
    record = publish(record, committee=p.committee, supervisor=p.supervisor)
    question = services.ask_question(record=record, by=p.resident, text="租金为什么比去年少？")
    services.answer_question(question=question, by=p.committee, answer="有一户退租了。")
    return record


def sql(statement, params=()):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def verify(village) -> str:
    err = StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("verify_ledgers", "--council", str(village.pk), stdout=StringIO(), stderr=err)
    assert failed.value.returncode == 1
    return err.getvalue()


def test_untouched_ledgers_verify_with_files_steps_questions_and_answers(tree, published):
    out = StringIO()
    call_command("verify_ledgers", "--council", str(tree["village"].pk), stdout=out)
    assert "OK, 1 entries" in out.getvalue()
    report = verify_journal(tree["village"].pk)
    assert report.ok
    kinds = list(JournalEntry.objects.order_by("position").values_list("kind", flat=True))
    # drafted, line, file, submitted, objected, submitted, signed off, published; Q; A
    assert kinds.count("event") == RecordEvent.objects.count() == 8
    assert kinds[-2:] == ["question", "answer"]
    assert JournalHead.objects.get().position == 10


def test_a_rewritten_file_on_disk_is_caught_and_named(tree, published):
    attachment = published.attachments.get()
    Path(attachment.file.path).write_bytes(PDF.replace(b"03", b"04"))
    errors = verify(tree["village"])
    assert "voucher.pdf" in errors and "changed since upload" in errors


def test_a_deleted_file_is_caught(tree, published):
    Path(published.attachments.get().file.path).unlink()
    assert "is missing" in verify(tree["village"])


def test_a_file_rewritten_together_with_its_recorded_hash_breaks_the_chain(tree, published):
    attachment = published.attachments.get()
    forged = PDF.replace(b"03", b"04")
    Path(attachment.file.path).write_bytes(forged)
    import hashlib

    sql(
        "UPDATE disclosure_attachment SET sha256 = %s WHERE id = %s",
        [hashlib.sha256(forged).hexdigest(), attachment.pk],
    )
    assert not verify_files(tree["village"].pk)  # the file matches its row now ...
    assert "no longer matches what was published" in verify(tree["village"])  # ... not the chain


@pytest.mark.parametrize(
    "column, value",
    [("reason", "同意"), ("actor_role", "committee"), ("action", "objected")],
)
def test_a_sign_off_edited_with_raw_sql_is_caught(tree, published, column, value):
    event = published.events.get(action=Action.SIGNED_OFF)
    sql(f"UPDATE disclosure_recordevent SET {column} = %s WHERE id = %s", [value, event.pk])
    errors = verify(tree["village"])
    assert "journal" in errors and "changed afterwards" in errors


def test_an_objection_reworded_afterwards_is_caught(tree, published):
    event = published.events.get(action=Action.OBJECTED)
    sql("UPDATE disclosure_recordevent SET reason = '' WHERE id = %s", [event.pk])
    assert "objected" in verify(tree["village"])


def test_who_signed_off_cannot_be_changed_afterwards(tree, published, p):
    event = published.events.get(action=Action.SIGNED_OFF)
    sql(
        "UPDATE disclosure_recordevent SET actor_id = %s WHERE id = %s",
        [p.supervisor2.pk, event.pk],
    )
    assert "who took this step was changed" in verify(tree["village"])
    sql(
        "UPDATE disclosure_recordevent SET actor_number = %s WHERE id = %s",
        [p.supervisor2.pk, event.pk],
    )
    assert "changed afterwards" in verify(tree["village"])


def test_a_deleted_objection_is_caught_even_with_its_journal_entry(tree, published):
    event = published.events.get(action=Action.OBJECTED)
    sql("DELETE FROM disclosure_journalentry WHERE event_id = %s", [event.pk])
    sql("DELETE FROM disclosure_recordevent WHERE id = %s", [event.pk])
    errors = verify(tree["village"])
    assert "does not link" in errors or "missing or out of order" in errors


def test_a_step_added_outside_the_services_is_caught(tree, published, p):
    RecordEvent.objects.create(record=published, action=Action.SIGNED_OFF, actor=p.supervisor2)
    assert "not in the journal" in verify(tree["village"])


def test_an_answer_edited_with_a_queryset_update_is_caught(tree, published):
    Question.objects.update(answer="没有问题。")
    assert "the answer to question" in verify(tree["village"])


def test_a_question_reworded_afterwards_is_caught(tree, published):
    Question.objects.update(text="随便问问。")
    assert "was changed afterwards" in verify(tree["village"])


def test_an_answer_given_outside_the_services_is_caught(tree, published, p):
    question = services.ask_question(record=published, by=p.resident, text="电费为什么涨了？")
    assert verify_journal(tree["village"].pk).ok
    Question.objects.filter(pk=question.pk).update(answer="没涨。", answered_by=p.committee)
    assert "is not in the journal" in verify(tree["village"])


def test_an_answer_removed_afterwards_is_caught(tree, published):
    Question.objects.update(answer="", answered_at=None)
    assert "changed afterwards" in verify(tree["village"])


def test_the_migration_journals_existing_steps_so_that_they_verify(tree, published, p):
    """Councils that existed before the journal get one, built in the order things happened."""
    import importlib

    from django.apps import apps

    migration = importlib.import_module("disclosure.migrations.0004_ledgers_journal_and_duties")
    services.ask_question(record=published, by=p.resident, text="还有一个问题要问？")
    JournalEntry.objects.all()._raw_delete(JournalEntry.objects.db)
    JournalHead.objects.all().delete()
    RecordEvent.objects.update(actor_number=None)
    migration.forwards(apps, None)
    report = verify_journal(tree["village"].pk)
    assert report.ok, [str(problem) for problem in report.problems]
    assert report.length == RecordEvent.objects.count() + 3  # two questions, one answer
    migration.forwards(apps, None)  # idempotent
    assert JournalEntry.objects.count() == report.length
