"""Bad input on every form: a clear message (English and Chinese), nothing saved."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from disclosure import services
from disclosure.models import Attachment, LineItem, Question, Record, RecordEvent, Status
from tests.disclosure.factories import draft, people, published_statement

pytestmark = pytest.mark.django_db


@pytest.fixture
def p(tree):
    return people(tree)


@pytest.fixture
def committee_client(client, p):
    client.force_login(p.committee)
    return client


GOOD_RECORD = {
    "record_type": "statement",
    "period_kind": "month",
    "period_start": "2025-03-01",
    "period_end": "",
    "title": "三月账目",
    "body": "",
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"title": ""}, "Write a title."),
        ({"title": "x"}, "at least 2 characters"),
        ({"period_start": "2025-03-05"}, "first day of a month"),
        ({"period_start": "三月"}, "Write a date like"),
        ({"record_type": "branch_meeting"}, "Select a valid choice"),
        ({"period_kind": "quarter", "period_start": "2025-02-01"}, "1 April"),
    ],
)
def test_draft_form_rejects_bad_input(committee_client, tree, change, message):
    url = f"/disclosure/{tree['village'].pk}/new/finance/"
    response = committee_client.post(url, {**GOOD_RECORD, **change})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Record.objects.exists()


def test_draft_form_works_and_speaks_chinese(committee_client, tree, settings):
    settings.LANGUAGE_CODE = "zh-hans"
    url = f"/disclosure/{tree['village'].pk}/new/finance/"
    response = committee_client.post(url, {**GOOD_RECORD, "title": ""})
    assert response.status_code == 400 and 'lang="zh-hans"' in response.content.decode()
    response = committee_client.post(url, GOOD_RECORD)
    assert response.status_code == 302
    assert Record.objects.get().title == "三月账目"


def test_draft_form_is_refused_to_non_committee(client, tree, p):
    client.force_login(p.supervisor)
    url = f"/disclosure/{tree['village'].pk}/new/finance/"
    assert client.post(url, GOOD_RECORD).status_code == 403
    assert not Record.objects.exists()


GOOD_LINE = {"date": "2025-03-02", "description": "租金", "income": "100.00", "expense": ""}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"income": "", "expense": ""}, "neither an income nor an expense"),
        ({"income": "10", "expense": "5"}, "both an income and an expense"),
        ({"income": "1.234"}, "at most 2 decimals"),
        ({"income": "-5"}, "cannot be negative"),
        ({"income": "一百"}, "Write an amount in yuan"),
        ({"income": "10000000000000"}, "too large"),
        ({"description": ""}, "Describe what the money was for"),
        ({"date": "2025-04-01"}, "within the record"),
        ({"date": ""}, "Give the date"),
    ],
)
def test_line_form_rejects_bad_input(committee_client, tree, p, change, message):
    record = draft(tree["village"], p.committee)
    response = committee_client.post(
        f"/disclosure/records/{record.pk}/lines/", {**GOOD_LINE, **change}
    )
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not LineItem.objects.exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("voucher.exe", b"MZ....", "PDF, JPG or PNG"),
        ("voucher.pdf", b"<html>not a pdf</html>", "not really a PDF"),
        ("photo.png", b"\xff\xd8\xff\xe0jpeg", "not really a PNG"),
    ],
)
def test_attachment_form_rejects_bad_files(committee_client, tree, p, name, content, message):
    record = draft(tree["village"], p.committee)
    response = committee_client.post(
        f"/disclosure/records/{record.pk}/attach/",
        {"file": SimpleUploadedFile(name, content)},
    )
    assert response.status_code == 400 and message in response.content.decode()
    assert not Attachment.objects.exists()


def test_attachment_too_large_is_refused_and_a_good_one_is_digested(tree, p, settings):
    import hashlib

    settings.YISHI_DISCLOSURE_MAX_UPLOAD_MB = 1
    record = draft(tree["village"], p.committee)
    big = SimpleUploadedFile("scan.pdf", b"%PDF-" + b"0" * (1024 * 1024))
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="larger than 1 MB"):
        services.attach_file(record=record, by=p.committee, upload=big)
    content = b"%PDF-1.4 voucher"
    attachment = services.attach_file(
        record=record, by=p.committee, upload=SimpleUploadedFile("凭证.pdf", content)
    )
    assert attachment.sha256 == hashlib.sha256(content).hexdigest()
    assert attachment.size == len(content) and attachment.original_name == "凭证.pdf"


def test_objection_form_needs_a_reason(client, tree, p):
    record = draft(tree["village"], p.committee)
    services.submit_for_review(record=record, by=p.committee)
    client.force_login(p.supervisor)
    response = client.post(f"/disclosure/records/{record.pk}/object/", {"reason": ""})
    assert response.status_code == 400 and "Write the reason." in response.content.decode()
    record.refresh_from_db()
    assert record.status == Status.IN_REVIEW
    assert not RecordEvent.objects.filter(action="objected").exists()


def test_correction_and_question_forms_reject_empty_input(client, tree, p):
    record = published_statement(tree["village"], p)
    client.force_login(p.committee)
    response = client.post(f"/disclosure/records/{record.pk}/correct/", {"reason": ""})
    assert response.status_code == 400
    assert "Say what was wrong" in response.content.decode()
    client.force_login(p.resident)
    response = client.post(f"/disclosure/records/{record.pk}/ask/", {"text": "问"})
    assert response.status_code == 400 and "at least 5 characters" in response.content.decode()
    assert Record.objects.count() == 1 and not Question.objects.exists()


def test_answer_form_rejects_empty_answers(client, tree, p):
    record = published_statement(tree["village"], p)
    question = services.ask_question(record=record, by=p.resident, text="租金为何减少？")
    client.force_login(p.committee)
    response = client.post(
        f"/disclosure/questions/{question.pk}/answer/", {"answer": ""}, follow=True
    )
    assert "Write an answer." in response.content.decode()
    question.refresh_from_db()
    assert question.answered_at is None


def test_workflow_buttons_post_through_views(client, tree, p):
    client.force_login(p.committee)
    client.post(f"/disclosure/{tree['village'].pk}/new/finance/", GOOD_RECORD)
    record = Record.objects.get()
    client.post(f"/disclosure/records/{record.pk}/lines/", GOOD_LINE)
    client.post(f"/disclosure/records/{record.pk}/submit/")
    response = client.post(f"/disclosure/records/{record.pk}/publish/", follow=True)
    assert "only after the supervisory committee has signed it off" in response.content.decode()
    client.force_login(p.supervisor)
    client.post(f"/disclosure/records/{record.pk}/sign-off/")
    client.force_login(p.committee)
    client.post(f"/disclosure/records/{record.pk}/publish/")
    record.refresh_from_db()
    assert record.status == Status.PUBLISHED and record.lines.count() == 1
