"""The registers' services: entries and versions through their disclosure records, disposals
against thresholds and resolutions, and the check that published versions match their records."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.utils import timezone

from assets import services
from assets.models import EntryVersion, Register
from disclosure import services as disclosure
from disclosure.models import Kind, RecordType, Status
from tests.assets.factories import (
    COMPUTER,
    OFFICE,
    POND,
    lease_fields,
    motion,
    people,
    publish_version,
    published_asset,
    published_pond,
    sold_a_month_ago,
    written_off_today,
)

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate


def schedule(n=3, total=Decimal("30000")):
    today = TODAY()
    return [(today + datetime.timedelta(days=365 * i), total / n) for i in range(n)]


def test_an_entry_is_published_through_its_disclosure_record(tree):
    p = people(tree)
    version = services.draft_entry(
        council=tree["village"], by=p.committee, register=Register.RESOURCE, fields=POND
    )
    record = version.record
    assert (record.kind, record.record_type, record.managed_by) == (
        Kind.FINANCE,
        RecordType.ASSET_REGISTER,
        "assets",
    )
    assert version.entry.code == "ZY-001" and record.status == Status.DRAFT
    assert "面积（亩）：12.50" in record.body and "东至水渠" in record.body
    publish_version(version, p)
    assert version.is_published
    assert list(services.current_versions(tree["village"])) == [version]
    assert services.verify_registers(council_id=tree["village"].pk) == []


def test_the_ledger_pages_cannot_edit_or_correct_a_register_record(tree):
    p = people(tree)
    version = services.draft_entry(
        council=tree["village"], by=p.committee, register=Register.RESOURCE, fields=POND
    )
    with pytest.raises(ValidationError, match="register"):
        disclosure.update_draft(
            record=version.record,
            by=p.committee,
            record_type=RecordType.ASSET_REGISTER,
            period_kind="ad_hoc",
            period_start=TODAY(),
            title="改过的标题",
            body="改过的内容",
        )
    publish_version(version, p)
    with pytest.raises(ValidationError, match="register"):
        disclosure.correct_record(original=version.record, by=p.committee, reason="写错了")


def test_a_published_version_never_changes_a_change_is_a_new_version(tree):
    p = people(tree)
    first = published_pond(tree["village"], p)
    first.name = "改名"
    with pytest.raises(ValidationError):
        first.save()
    with pytest.raises(ValidationError, match="what changed"):
        services.draft_version(entry=first.entry, by=p.committee, fields={**POND, "area": "13"})
    second = services.draft_version(
        entry=first.entry,
        by=p.committee,
        fields={**POND, "area": "13", "change_reason": "重新测量"},
    )
    assert second.number == 2 and second.record.corrects_id == first.record_id
    with pytest.raises(ValidationError, match="still a draft"):
        services.draft_version(
            entry=first.entry, by=p.committee, fields={**POND, "change_reason": "再改"}
        )
    assert list(services.current_versions(tree["village"])) == [first]
    publish_version(second, p)
    assert list(services.current_versions(tree["village"])) == [second]


def test_only_the_committee_keeps_registers(tree):
    p = people(tree)
    for person in (p.resident, p.supervisor, p.official, p.outsider, p.other_resident):
        with pytest.raises(PermissionDenied):
            services.draft_entry(
                council=tree["village"], by=person, register=Register.RESOURCE, fields=POND
            )
    version = services.draft_entry(
        council=tree["village"], by=p.committee, register=Register.RESOURCE, fields=POND
    )
    for person in (p.resident, p.supervisor, p.official):
        with pytest.raises(PermissionDenied):
            services.update_version(version=version, by=person, fields=POND)


def test_a_lease_without_a_resolution_is_refused(tree):
    p = people(tree)
    pond = published_pond(tree["village"], p)
    with pytest.raises(ValidationError) as refused:
        services.draft_entry(
            council=tree["village"],
            by=p.committee,
            register=Register.CONTRACT,
            fields=lease_fields(pond.entry),
            installments=schedule(),
        )
    assert "resolution" in str(refused.value)
    assert not EntryVersion.objects.filter(entry__register=Register.CONTRACT).exists()


def test_a_lease_with_a_carried_resolution_is_drafted_and_the_name_masked(tree):
    p = people(tree)
    pond = published_pond(tree["village"], p)
    carried = motion(tree["village"], p.committee)
    version = services.draft_entry(
        council=tree["village"],
        by=p.committee,
        register=Register.CONTRACT,
        fields={**lease_fields(pond.entry), "resolution": carried},
        installments=schedule(),
    )
    assert version.counterparty == "王*英" and "王小英" not in version.record.body
    assert "王*英" in version.record.body and version.irregular is False
    assert version.installments.count() == 3
    assert f"第 {carried.pk} 号议案" in version.record.body  # the register links the resolution
    assert str(carried.pk) in version.record.body


@pytest.mark.parametrize("problem", ["lost", "open session", "other village", "party meeting"])
def test_a_resolution_that_allows_nothing_is_refused(tree, problem):
    from councils.models import Role
    from meetings.models import SessionKind
    from tests.councils.factories import member

    p = people(tree)
    pond = published_pond(tree["village"], p)
    if problem == "lost":
        made = motion(tree["village"], p.committee, carried=False)
    elif problem == "open session":
        made = motion(tree["village"], p.committee, closed=False)
        made.status = "open"  # a vote still open
        made.save()
    elif problem == "other village":
        chair = member(tree["other_village"])
        member(tree["other_village"], Role.COMMITTEE, user=chair)
        made = motion(tree["other_village"], chair)
    else:  # a Party members' meeting decides nothing about collective property
        made = motion(tree["village"], p.committee)
        type(made.session).objects.filter(pk=made.session_id).update(kind=SessionKind.PARTY_MEMBERS)
        made.refresh_from_db()
    with pytest.raises(ValidationError) as refused:
        services.draft_entry(
            council=tree["village"],
            by=p.committee,
            register=Register.CONTRACT,
            fields={**lease_fields(pond.entry), "resolution": made},
            installments=schedule(),
        )
    assert "resolution" in refused.value.message_dict


def test_a_sale_recorded_after_the_fact_without_a_resolution_is_irregular(tree):
    p = people(tree)
    building = published_asset(tree["village"], p, OFFICE)
    sold = sold_a_month_ago(OFFICE)
    with pytest.raises(ValidationError, match="after the fact"):
        services.draft_version(entry=building.entry, by=p.committee, fields=sold)
    version = services.draft_version(
        entry=building.entry, by=p.committee, fields=sold, after_the_fact=True
    )
    assert version.irregular and "本次为 120000.00 元" in version.irregular_reason
    assert "不合规：" in version.record.body  # published visibly, in the hashed text
    future = {**sold, "disposed_on": (TODAY() + datetime.timedelta(days=5)).isoformat()}
    with pytest.raises(ValidationError, match="already taken effect"):
        services.update_version(version=version, by=p.committee, fields=future, after_the_fact=True)


def test_thresholds_let_a_small_write_off_through_without_a_resolution(tree):
    p = people(tree)
    services.set_thresholds(township=tree["township"], by=p.official, write_off_amount="5000")
    computer = published_asset(tree["village"], p, COMPUTER)
    version = services.draft_version(
        entry=computer.entry, by=p.committee, fields=written_off_today(COMPUTER)
    )
    assert not version.irregular
    for person in (p.committee, p.resident, p.other_official):
        with pytest.raises(PermissionDenied):
            services.set_thresholds(township=tree["township"], by=person, sale_amount="1")


def test_a_row_changed_behind_the_orm_is_found(tree):
    p = people(tree)
    version = published_pond(tree["village"], p)
    with connection.cursor() as cursor:
        cursor.execute("UPDATE assets_entryversion SET area = 1 WHERE id = %s", [version.pk])
    problems = services.verify_registers(council_id=tree["village"].pk)
    assert [problem.version_id for problem in problems] == [version.pk]


def test_schedule_must_add_up_to_the_price(tree):
    p = people(tree)
    pond = published_pond(tree["village"], p)
    carried = motion(tree["village"], p.committee)
    with pytest.raises(ValidationError, match="add up"):
        services.draft_entry(
            council=tree["village"],
            by=p.committee,
            register=Register.CONTRACT,
            fields={**lease_fields(pond.entry), "resolution": carried},
            installments=[(d, Decimal("9000")) for d, _amount in schedule()],
        )


def test_a_resolution_passed_after_the_disposal_took_effect_does_not_allow_it(tree, settings):
    settings.LANGUAGE_CODE = "zh-hans"  # the refusal is decided by meaning, not by its words
    p = people(tree)
    pond = published_pond(tree["village"], p)
    carried = motion(tree["village"], p.committee)  # closed today
    earlier = (TODAY() - datetime.timedelta(days=60)).isoformat()
    fields = {**lease_fields(pond.entry), "resolution": carried, "starts_on": earlier}
    fields["disposed_on"] = earlier
    with pytest.raises(ValidationError) as refused:
        services.draft_entry(
            council=tree["village"],
            by=p.committee,
            register=Register.CONTRACT,
            fields=fields,
            installments=[(earlier, "30000")],
        )
    assert "决议晚于处置生效日期" in str(refused.value)
    version = services.draft_entry(
        council=tree["village"],
        by=p.committee,
        register=Register.CONTRACT,
        fields=fields,
        installments=[(earlier, "30000")],
        after_the_fact=True,
    )
    assert version.irregular and version.resolution == carried
    assert "决议晚于处置生效日期" in version.record.body


def test_the_ledger_pages_cannot_submit_a_register_record_around_the_registers_checks(tree):
    p = people(tree)
    version = services.draft_entry(
        council=tree["village"], by=p.committee, register=Register.RESOURCE, fields=POND
    )
    with pytest.raises(ValidationError, match="register"):
        disclosure.submit_for_review(record=version.record, by=p.committee)
    with pytest.raises(ValidationError, match="register"):
        disclosure.submit_for_review(record=version.record, by=p.committee, keeper="budgets")
    assert not p.committee.has_perm("disclosure.submit_record", version.record)
    version.record.refresh_from_db()
    assert version.record.status == Status.DRAFT
    services.submit_version(version=version, by=p.committee)
    version.record.refresh_from_db()
    assert version.record.status == Status.IN_REVIEW


def test_the_next_code_follows_the_highest_in_use(tree):
    p = people(tree)
    for code in ("ZY-101", "ZY-102", "ZY-7B"):
        services.draft_entry(
            council=tree["village"],
            by=p.committee,
            register=Register.RESOURCE,
            fields=POND,
            code=code,
        )
    assert services.next_code(tree["village"], Register.RESOURCE) == "ZY-103"
    assert services.next_code(tree["village"], Register.ASSET) == "ZC-001"
    assert services.next_code(tree["other_village"], Register.RESOURCE) == "ZY-001"
