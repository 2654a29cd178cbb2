"""Issue 13, point 10: separation of duties on a record.

Nobody who prepared a record (drafted, edited, added or removed lines or files, submitted it)
signs it off; whoever signed it off never publishes it; a committee member never signs off.
Legacy data may still pair roles (rows made before the rule); these tests build such people
directly with Membership rows, as an old database or a careless import would.
"""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile

from councils.models import Role
from disclosure import services
from disclosure.models import Status
from tests.councils.factories import member
from tests.disclosure.factories import draft, line, people

pytestmark = pytest.mark.django_db


@pytest.fixture
def p(tree):
    return people(tree)


@pytest.fixture
def dual(tree):
    """A legacy person on both committees of the village."""
    user = member(tree["village"], Role.COMMITTEE)
    member(tree["village"], Role.SUPERVISOR, user=user)
    return user


def in_review(record, by):
    return services.submit_for_review(record=record, by=by)


def assert_cannot_sign_off(record, who, words):
    assert not who.has_perm("disclosure.sign_off_record", record)
    with pytest.raises(PermissionDenied, match=words):
        services.sign_off_record(record=record, by=who)
    record.refresh_from_db()
    assert record.status == Status.IN_REVIEW


def test_who_added_a_line_cannot_sign_off(tree, p, dual):
    record = draft(tree["village"], p.committee)
    line(record, dual, income=Decimal("5"))
    assert_cannot_sign_off(in_review(record, p.committee), dual, "You prepared this record")


def test_who_edited_cannot_sign_off(tree, p, dual):
    record = draft(tree["village"], p.committee)
    services.update_draft(
        record=record,
        by=dual,
        record_type=record.record_type,
        period_kind=record.period_kind,
        period_start=record.period_start,
        title="改过的标题",
    )
    assert_cannot_sign_off(in_review(record, p.committee), dual, "You prepared this record")


def test_who_attached_a_file_cannot_sign_off(tree, p, dual, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    record = draft(tree["village"], p.committee)
    services.attach_file(record=record, by=dual, upload=SimpleUploadedFile("v.pdf", b"%PDF-1.4\n"))
    assert_cannot_sign_off(in_review(record, p.committee), dual, "You prepared this record")


def test_who_removed_a_line_cannot_sign_off(tree, p, dual):
    record = draft(tree["village"], p.committee)
    services.remove_line_item(line=line(record, p.committee, income=Decimal("5")), by=dual)
    assert_cannot_sign_off(in_review(record, p.committee), dual, "You prepared this record")


def test_who_submitted_cannot_sign_off(tree, p, dual):
    record = draft(tree["village"], p.committee)
    assert_cannot_sign_off(in_review(record, dual), dual, "You prepared this record")


def test_who_drafted_cannot_sign_off(tree, p, dual):
    record = draft(tree["village"], dual)
    assert_cannot_sign_off(in_review(record, p.committee), dual, "You prepared this record")


def test_a_committee_member_never_signs_off_even_without_preparing(tree, p, dual):
    record = in_review(draft(tree["village"], p.committee), p.committee)
    assert_cannot_sign_off(record, dual, "Organic Law, art. 32")


def test_a_preparer_stays_a_preparer_after_an_objection(tree, p, dual):
    record = draft(tree["village"], p.committee)
    line(record, dual, income=Decimal("5"))
    record = in_review(record, p.committee)
    services.object_to_record(record=record, by=p.supervisor, reason="缺凭证")
    assert_cannot_sign_off(in_review(record, p.committee), dual, "You prepared this record")


def test_the_signer_never_publishes(tree, p):
    record = in_review(draft(tree["village"], p.committee), p.committee)
    services.sign_off_record(record=record, by=p.supervisor)
    member(tree["village"], Role.COMMITTEE, user=p.supervisor)  # later made committee (legacy)
    assert not p.supervisor.has_perm("disclosure.publish_record", record)
    with pytest.raises(PermissionDenied, match="You signed this record off"):
        services.publish_record(record=record, by=p.supervisor)
    record.refresh_from_db()
    assert record.status == Status.SIGNED_OFF


def test_a_signer_of_an_earlier_round_never_publishes(tree, p):
    record = in_review(draft(tree["village"], p.committee), p.committee)
    services.sign_off_record(record=record, by=p.supervisor)
    services.object_to_record(record=record, by=p.supervisor2, reason="金额不对")
    record = in_review(record, p.committee)
    services.sign_off_record(record=record, by=p.supervisor2)
    member(tree["village"], Role.COMMITTEE, user=p.supervisor)
    with pytest.raises(PermissionDenied):
        services.publish_record(record=record, by=p.supervisor)


@pytest.mark.parametrize("who", ["committee", "committee2", "resident", "official", "outsider"])
def test_no_one_but_a_supervisor_signs_off(tree, p, who):
    record = in_review(draft(tree["village"], p.committee), p.committee)
    with pytest.raises(PermissionDenied):
        services.sign_off_record(record=record, by=getattr(p, who))


def test_separate_people_go_all_the_way(tree, p):
    record = draft(tree["village"], p.committee)
    line(record, p.committee2, income=Decimal("5"))
    record = in_review(record, p.committee)
    assert p.supervisor.has_perm("disclosure.sign_off_record", record)
    record = services.sign_off_record(record=record, by=p.supervisor)
    assert p.committee.has_perm("disclosure.publish_record", record)  # a preparer may publish
    assert services.publish_record(record=record, by=p.committee).status == Status.PUBLISHED


def test_the_sign_off_button_explains_why_not(client, tree, p, dual):
    record = draft(tree["village"], p.committee)
    line(record, dual, income=Decimal("5"))
    record = in_review(record, p.committee)
    client.force_login(dual)
    response = client.post(f"/disclosure/records/{record.pk}/sign-off/", follow=True)
    assert "You prepared this record" in response.content.decode()
    record.refresh_from_db()
    assert record.status == Status.IN_REVIEW
