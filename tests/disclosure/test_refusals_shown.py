"""A refused line, file, objection, correction or question says why, to the person refused.

The record page shows each of these forms only to someone allowed to use it in the record's
present state; a post by anyone else used to re-render the page with a form (and its error)
that the page did not show. The reason now comes as a message: the record's state when that is
what refuses (true for everyone), else who may do it.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils.html import escape

from disclosure import services
from disclosure.models import Attachment, Kind, LineItem, Question, Record, RecordType
from tests.disclosure.factories import draft, people, published_statement

pytestmark = pytest.mark.django_db

PUBLISHED = (
    "This record is published and can no longer be changed. To put a mistake right, "
    "publish a correcting record."
)
IN_REVIEW = (
    "This record is with the supervisory committee. It can be changed again only if they "
    "object and send it back."
)


@pytest.fixture
def p(tree):
    return people(tree)


@pytest.fixture
def records(tree, p):
    village = tree["village"]
    in_review = services.submit_for_review(record=draft(village, p.committee), by=p.committee)
    return {
        "draft": draft(village, p.committee, title="四月草稿"),
        "in_review": in_review,
        "published": published_statement(village, p, title="二月账目"),
        "resolution": draft(
            village,
            p.committee,
            kind=Kind.VILLAGE,
            record_type=RecordType.RESOLUTION,
            title="村民代表会议决议",
        ),
    }


def rows() -> dict:
    return {
        "records": Record.objects.count(),
        "lines": LineItem.objects.count(),
        "files": Attachment.objects.count(),
        "questions": Question.objects.count(),
        "events": sum(r.events.count() for r in Record.objects.all()),
    }


BAD_LINE = {"date": "not a date", "expense": "NaN"}
NOT_A_PDF = {"file": lambda: SimpleUploadedFile("x.pdf", b"not a pdf")}


@pytest.mark.parametrize(
    ("who", "action", "record", "data", "says"),
    [
        ("committee", "add_line", "published", BAD_LINE, PUBLISHED),
        ("committee", "add_line", "in_review", BAD_LINE, IN_REVIEW),
        ("committee", "add_line", "resolution", BAD_LINE, "Only financial records and welfare"),
        ("supervisor", "add_line", "draft", BAD_LINE, "Only the committee edits drafts."),
        ("committee", "attach", "published", NOT_A_PDF, PUBLISHED),
        ("supervisor", "object", "draft", {"reason": ""}, "Only a record under review can be"),
        ("committee", "object", "in_review", {"reason": ""}, "Only the supervisory committee"),
        (
            "resident",
            "correct",
            "published",
            {"reason": ""},
            "Only the committee corrects records.",
        ),
        ("committee", "correct", "draft", {"reason": ""}, "Only a published record is corrected"),
        ("outsider", "ask", "published", {"text": "?"}, "Only verified residents of this village"),
        ("committee", "ask", "draft", {"text": "?"}, "Questions can be asked only about published"),
    ],
)
def test_a_refused_form_says_why_on_the_record_page(
    client, p, records, who, action, record, data, says
):
    record = records[record]
    data = {k: v() if callable(v) else v for k, v in data.items()}
    before = rows()
    client.force_login(getattr(p, who))
    response = client.post(reverse(f"disclosure:{action}", args=[record.pk]), data, follow=True)
    assert response.redirect_chain == [(record.get_absolute_url(), 302)]
    page = response.content.decode()
    assert escape(says) in page
    assert "message error" in page
    assert rows() == before


def test_a_second_correction_points_to_the_first(client, p, records):
    original = records["published"]
    services.correct_record(original=original, by=p.committee, reason="金额录错了")
    before = rows()
    client.force_login(p.committee)
    response = client.post(
        reverse("disclosure:correct", args=[original.pk]), {"reason": "再改"}, follow=True
    )
    says = "This record already has a correction. Correct the correction instead."
    assert escape(says) in response.content.decode()
    assert rows() == before
