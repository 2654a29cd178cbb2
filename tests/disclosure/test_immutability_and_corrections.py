"""A published record never changes: not via services, form posts, or model saves.
Mistakes are put right by a correcting record with reversing lines."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from disclosure import services
from disclosure.models import (
    Action,
    Attachment,
    ChainEntry,
    ImmutableRecordError,
    LineItem,
    PeriodKind,
    Record,
    RecordEvent,
    RecordType,
    Status,
)
from disclosure.selectors import finance_period
from tests.disclosure.factories import draft, line, people, publish, published_statement

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj\n<<>>\nendobj\n%%EOF\n"


@pytest.fixture
def p(tree):
    return people(tree)


@pytest.fixture
def published(tree, p):
    return published_statement(tree["village"], p, amounts=["100.00", "20.50"])


def test_services_refuse_to_edit_a_published_record(published, p):
    attempts = [
        lambda: services.update_draft(
            record=published,
            by=p.committee,
            record_type=RecordType.STATEMENT,
            period_kind=PeriodKind.MONTH,
            period_start=published.period_start,
            title="改了",
        ),
        lambda: line(published, p.committee, income="1"),
        lambda: services.remove_line_item(line=published.lines.first(), by=p.committee),
        lambda: services.attach_file(
            record=published, by=p.committee, upload=SimpleUploadedFile("a.pdf", PDF)
        ),
        lambda: services.submit_for_review(record=published, by=p.committee),
        lambda: services.object_to_record(record=published, by=p.supervisor, reason="晚了"),
        lambda: services.sign_off_record(record=published, by=p.supervisor2),
    ]
    for attempt in attempts:
        with pytest.raises(ImmutableRecordError, match="published"):
            attempt()
    published.refresh_from_db()
    assert published.title == "2025年3月财务收支明细" and published.status == Status.PUBLISHED
    assert published.lines.count() == 2 and not published.attachments.exists()


def test_model_save_and_delete_refuse_a_published_record(published):
    published.title = "偷偷改"
    with pytest.raises(ImmutableRecordError):
        published.save()
    with pytest.raises(ImmutableRecordError):
        Record.objects.get(pk=published.pk).delete()
    first = published.lines.first()
    first.income = Decimal("1.00")
    with pytest.raises(ImmutableRecordError):
        first.save()
    with pytest.raises(ImmutableRecordError):
        first.delete()
    with pytest.raises(ImmutableRecordError):
        LineItem.objects.create(
            record=published,
            position=9,
            date=published.period_start,
            description="x",
            income=Decimal("1"),
        )
    with pytest.raises(ImmutableRecordError):
        Attachment.objects.create(
            record=published,
            original_name="x.pdf",
            content_type="x",
            size=1,
            sha256="0" * 64,
            file="x.pdf",
        )
    assert Record.objects.get().title == "2025年3月财务收支明细"
    assert LineItem.objects.get(pk=first.pk).income == Decimal("100.00")


def test_history_and_chain_entries_are_append_only(published):
    event = RecordEvent.objects.first()
    event.reason = "rewritten"
    with pytest.raises(ValidationError):
        event.save()
    with pytest.raises(ValidationError):
        event.delete()
    entry = ChainEntry.objects.get()
    with pytest.raises(ValidationError):
        entry.delete()
    with pytest.raises(ValidationError):
        entry.save()


def test_form_post_to_edit_a_published_record_is_refused(client, published, p):
    client.force_login(p.committee)
    url = f"/disclosure/records/{published.pk}/edit/"
    data = {
        "record_type": "statement",
        "period_kind": "month",
        "period_start": "2025-03-01",
        "title": "改过的标题",
        "body": "",
    }
    response = client.post(url, data, follow=True)
    assert "can no longer be changed" in response.content.decode()
    response = client.post(
        f"/disclosure/records/{published.pk}/lines/",
        {"date": "2025-03-02", "description": "补记", "income": "5"},
        follow=True,
    )
    assert "can no longer be changed" in response.content.decode()
    published.refresh_from_db()
    assert published.title == "2025年3月财务收支明细" and published.lines.count() == 2


def test_correction_reverses_every_line_and_totals_net_out(tree, p, published):
    correction = services.correct_record(original=published, by=p.committee, reason="租金应为90元")
    reversals = list(correction.lines.order_by("position"))
    assert [(r.income, r.reverses_id) for r in reversals] == [
        (Decimal("-100.00"), published.lines.get(position=1).pk),
        (Decimal("-20.50"), published.lines.get(position=2).pk),
    ]
    line(correction, p.committee, income="90.00", description="租金收入（更正）")
    line(correction, p.committee, income="20.50", description="租金收入")
    correction = publish(correction, committee=p.committee, supervisor=p.supervisor)
    assert correction.corrects == published and correction.correction_reason == "租金应为90元"

    _period, _page, totals, _records = finance_period(
        tree["village"], PeriodKind.MONTH, published.period_start, page=1
    )
    assert totals["income"] == Decimal("110.50")  # 120.50 - 120.50 + 110.50, exactly
    assert totals["balance"] == Decimal("110.50")
    # the original is untouched and says it was corrected
    assert published.lines.count() == 2
    assert published.events.last().action == Action.CORRECTED
    assert ChainEntry.objects.count() == 2


def test_reversing_lines_cannot_be_removed_and_a_record_is_corrected_once(p, published):
    correction = services.correct_record(original=published, by=p.committee, reason="金额错")
    with pytest.raises(ValidationError):
        services.remove_line_item(line=correction.lines.first(), by=p.committee)
    with pytest.raises((ValidationError, PermissionDenied)):
        services.correct_record(original=published, by=p.committee, reason="再改一次")
    assert Record.objects.filter(corrects=published).count() == 1


@pytest.mark.parametrize("who", ["resident", "supervisor", "official"])
def test_only_the_committee_corrects(p, published, who):
    with pytest.raises(PermissionDenied):
        services.correct_record(original=published, by=getattr(p, who), reason="错了")
    assert not Record.objects.filter(corrects=published).exists()


def test_a_draft_is_not_corrected_and_a_correction_needs_a_reason(tree, p, published):
    with pytest.raises(ValidationError):
        services.correct_record(original=published, by=p.committee, reason=" ")
    a_draft = draft(tree["village"], p.committee)
    with pytest.raises(ValidationError):
        services.correct_record(original=a_draft, by=p.committee, reason="错了")
    assert Record.objects.count() == 2


def test_the_original_page_shows_corrected_by(client, p, published):
    correction = services.correct_record(original=published, by=p.committee, reason="金额错")
    publish(correction, committee=p.committee, supervisor=p.supervisor)
    html = client.get(published.get_absolute_url()).content.decode()
    assert "Corrected by" in html and correction.get_absolute_url() in html
    html = client.get(correction.get_absolute_url()).content.decode()
    assert "金额错" in html and "reverses line 1" in html


def test_decimal_sums_are_exact(tree, p):
    record = draft(tree["village"], p.committee)
    for _ in range(10):
        line(record, p.committee, income="0.10")
    line(record, p.committee, expense="0.30")
    publish(record, committee=p.committee, supervisor=p.supervisor)
    _period, _page, totals, _records = finance_period(
        tree["village"], PeriodKind.MONTH, record.period_start, page=1
    )
    assert totals["income"] == Decimal("1.00") and totals["expense"] == Decimal("0.30")
    assert totals["balance"] == Decimal("0.70")
    assert isinstance(totals["income"], Decimal)
