"""Integrity of the registers, tried as an attacker would: a published entry joins its council's
hash chain; whatever is changed behind the ORM's back (the record's text, a version's row, a
payment due, the resolution it cites, a row moved or deleted) is found by verify_chain or by
verify_registers and named by the management commands; the ORM and the services refuse to
change what was published; a change is a new version, and both stay in the chain."""

import datetime
from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone, translation

from assets import services
from assets.models import Entry, EntryVersion, Installment, Register
from disclosure import services as disclosure
from disclosure.hashchain import canonical_bytes, content_of, sha256_hex
from disclosure.models import ChainEntry, Record, Status
from meetings.models import Motion
from tests.assets.factories import POND, motion, people, publish_version, published_pond

pytestmark = pytest.mark.django_db

PRICE = Decimal("30000.00")


def lease_fields(pond, resolution, **extra):
    today = timezone.localdate()
    return {
        "name": "村东鱼塘租赁合同",
        "contract_kind": "lease",
        "counterparty_kind": "person",
        "counterparty": "王小英",
        "subject": pond.entry,
        "starts_on": today,
        "ends_on": today + datetime.timedelta(days=3 * 365),
        "price": str(PRICE),
        "resolution": resolution,
        **extra,
    }


def schedule():
    today = timezone.localdate()
    return [(today + datetime.timedelta(days=365 * n), PRICE / 3) for n in range(3)]


@pytest.fixture
def registers(tree):
    """A published pond and its published lease (by a carried resolution, three payments)."""
    p = people(tree)
    village = tree["village"]
    pond = published_pond(village, p)
    carried = motion(village, p.committee)
    lease = services.draft_entry(
        council=village,
        by=p.committee,
        register=Register.CONTRACT,
        fields=lease_fields(pond, carried),
        installments=schedule(),
    )
    lease = publish_version(lease, p)
    return {"p": p, "village": village, "pond": pond, "lease": lease, "motion": carried}


def sql(statement, params):
    with connection.cursor() as cursor:
        cursor.execute(statement, params)


def chain_ok(village) -> bool:
    return disclosure.verify_chain(council_id=village.pk).ok


def register_problems(village) -> list:
    return services.verify_registers(council_id=village.pk)


def test_a_published_version_joins_its_councils_hash_chain(registers):
    village, lease = registers["village"], registers["lease"]
    entry = ChainEntry.objects.get(record=lease.record)
    assert entry.council_id == village.pk
    # The chain hashes the record's body, which is the version's canonical text.
    record = Record.objects.get(pk=lease.record_id)
    assert entry.content_hash == sha256_hex(canonical_bytes(content_of(record)))
    assert "王*英" in content_of(record)["body"] and "10000.00" in content_of(record)["body"]
    positions = list(ChainEntry.objects.filter(council=village).values_list("record", flat=True))
    assert positions == [registers["pond"].record_id, lease.record_id]
    assert chain_ok(village) and register_problems(village) == []


def test_an_unpublished_version_is_not_in_the_chain(registers):
    p, village = registers["p"], registers["village"]
    draft = services.draft_entry(
        council=village,
        by=p.committee,
        register=Register.ASSET,
        fields={"name": "村委办公楼", "category": "building", "book_value": "50000"},
    )
    assert not ChainEntry.objects.filter(record=draft.record).exists()
    services.submit_version(version=draft, by=p.committee)
    assert not ChainEntry.objects.filter(record=draft.record).exists()
    assert chain_ok(village) and register_problems(village) == []


def test_a_record_body_edited_in_the_database_breaks_the_chain(registers):
    village, lease = registers["village"], registers["lease"]
    body = lease.record.body.replace("30000.00", "3000.00")
    assert body != lease.record.body
    sql("UPDATE disclosure_record SET body = %s WHERE id = %s", [body, lease.record_id])
    report = disclosure.verify_chain(council_id=village.pk)
    assert not report.ok
    assert [problem.record_id for problem in report.problems] == [lease.record_id]
    # ...and the record no longer says what the version's row says, either.
    assert [problem.version_id for problem in register_problems(village)] == [lease.pk]


def test_a_version_body_and_row_edited_together_still_break_the_chain(registers):
    """The thorough attacker changes the row and renders a matching body: the chain's hash of the
    body, taken at publication, is what they cannot redo."""
    village, lease = registers["village"], registers["lease"]
    sql("UPDATE assets_entryversion SET price = 3000 WHERE id = %s", [lease.pk])
    sql("UPDATE assets_installment SET amount = 1000 WHERE version_id = %s", [lease.pk])
    tampered = EntryVersion.objects.get(pk=lease.pk)
    from assets.canonical import canonical_text

    sql(
        "UPDATE disclosure_record SET body = %s WHERE id = %s",
        [canonical_text(tampered), lease.record_id],
    )
    assert register_problems(village) == []
    assert not chain_ok(village)


def _motion_table():
    return Motion._meta.db_table


TAMPERING = {
    # A committee member leasing the pond cheaply to a relative, after publication.
    "price lowered": ("UPDATE assets_entryversion SET price = 3000 WHERE id = %(lease)s"),
    "lessee's full name written in": (
        "UPDATE assets_entryversion SET counterparty = '王小英' WHERE id = %(lease)s"
    ),
    "term lengthened": (
        "UPDATE assets_entryversion SET ends_on = '2099-12-31' WHERE id = %(lease)s"
    ),
    "disposal back-dated": (
        "UPDATE assets_entryversion SET disposed_on = '2001-01-01', starts_on = '2001-01-01' "
        "WHERE id = %(lease)s"
    ),
    "resolution unlinked": (
        "UPDATE assets_entryversion SET resolution_id = NULL WHERE id = %(lease)s"
    ),
    "resolution swapped": (
        "UPDATE assets_entryversion SET resolution_id = %(other_motion)s WHERE id = %(lease)s"
    ),
    "resolution back-dated": (
        "UPDATE {motions} SET closed_at = '2001-01-01 08:00:00' WHERE id = %(motion)s"
    ),
    "resolution retitled": ("UPDATE {motions} SET title = '别的决议' WHERE id = %(motion)s"),
    "marked irregular": (
        "UPDATE assets_entryversion SET irregular = TRUE, irregular_reason = 'x' "
        "WHERE id = %(lease)s"
    ),
    "subject swapped": ("UPDATE assets_entryversion SET subject_id = NULL WHERE id = %(lease)s"),
    "version renumbered": ("UPDATE assets_entryversion SET number = 7 WHERE id = %(lease)s"),
    "payment lowered": ("UPDATE assets_installment SET amount = 1 WHERE id = %(installment)s"),
    "payment postponed": (
        "UPDATE assets_installment SET due_on = '2099-01-01' WHERE id = %(installment)s"
    ),
    "payment deleted": ("DELETE FROM assets_installment WHERE id = %(installment)s"),
    "payment added": (
        "INSERT INTO assets_installment (version_id, due_on, amount) "
        "VALUES (%(lease)s, '2030-01-01', 500)"
    ),
    "stray value on a contract": (
        "UPDATE assets_entryversion SET disposal_value = 1 WHERE id = %(lease)s"
    ),
    "contract's disposal changed": (
        "UPDATE assets_entryversion SET disposal = 'contracting' WHERE id = %(lease)s"
    ),
    "payment added to a pond": (
        "INSERT INTO assets_installment (version_id, due_on, amount) "
        "VALUES (%(pond)s, '2030-01-01', 500)"
    ),
    "pond's area changed": ("UPDATE assets_entryversion SET area = 1 WHERE id = %(pond)s"),
    "entry's code changed": ("UPDATE assets_entry SET code = 'HT-999' WHERE id = %(lease_entry)s"),
    "version moved to another entry": (
        "UPDATE assets_entryversion SET entry_id = %(pond_entry)s, number = 9 WHERE id = %(lease)s"
    ),
}


@pytest.mark.parametrize("attack", sorted(TAMPERING))
def test_a_register_row_changed_in_the_database_is_found_and_the_chain_still_holds(
    registers, attack
):
    village, lease, pond = registers["village"], registers["lease"], registers["pond"]
    p = registers["p"]
    other = motion(village, p.committee, title="关于别的事项的决议")
    params = {
        "lease": lease.pk,
        "pond": pond.pk,
        "lease_entry": lease.entry_id,
        "pond_entry": pond.entry_id,
        "motion": registers["motion"].pk,
        "other_motion": other.pk,
        "installment": lease.installments.order_by("due_on").first().pk,
    }
    assert register_problems(village) == []
    sql(TAMPERING[attack].format(motions=_motion_table()) % params, [])
    problems = register_problems(village)
    assert problems, attack
    target = pond if "pond" in attack else lease
    assert target.pk in [problem.version_id for problem in problems]
    # The records themselves were not touched: the chain holds, and verify_ledgers passes.
    assert chain_ok(village)


def test_a_version_row_deleted_or_moved_leaves_its_published_record_orphaned(registers):
    village, pond = registers["village"], registers["pond"]
    sql("DELETE FROM assets_entryversion WHERE id = %s", [pond.pk])
    problems = register_problems(village)
    assert [problem.version_id for problem in problems] == [None]
    assert f"#{pond.record_id}" in problems[0].message and "村东鱼塘" in problems[0].message


def test_an_entry_moved_to_another_village_is_found_in_both(registers, tree):
    village, other = registers["village"], tree["other_village"]
    lease = registers["lease"]
    sql("UPDATE assets_entry SET council_id = %s WHERE id = %s", [other.pk, lease.entry_id])
    here = register_problems(village)
    there = services.verify_registers(council_id=other.pk)
    assert [problem.version_id for problem in here] == [None]
    assert [problem.version_id for problem in there] == [lease.pk]


def test_the_orm_refuses_to_change_or_delete_a_published_version_or_its_payments(registers):
    village, lease = registers["village"], registers["lease"]
    version = EntryVersion.objects.get(pk=lease.pk)
    version.price = Decimal("3000")
    with pytest.raises(ValidationError):
        version.save()
    with pytest.raises(ValidationError):
        EntryVersion.objects.get(pk=lease.pk).delete()
    installment = lease.installments.first()
    installment.amount = Decimal("1")
    with pytest.raises(ValidationError):
        installment.save()
    with pytest.raises(ValidationError):
        lease.installments.first().delete()
    with pytest.raises(ValidationError):
        Installment.objects.create(
            version=lease, due_on=timezone.localdate(), amount=Decimal("500")
        )
    fresh = EntryVersion.objects.get(pk=lease.pk)
    assert fresh.price == PRICE and fresh.installments.count() == 3
    assert register_problems(village) == [] and chain_ok(village)


def test_the_services_refuse_to_edit_a_published_version(registers):
    p, village, lease = registers["p"], registers["village"], registers["lease"]
    for person in (p.committee, p.committee2, p.supervisor, p.official, p.resident):
        with pytest.raises(PermissionDenied):
            services.update_version(
                version=lease,
                by=person,
                fields=lease_fields(registers["pond"], registers["motion"], price="3000"),
                installments=[(timezone.localdate(), Decimal("3000"))],
            )
        with pytest.raises(PermissionDenied):
            services.submit_version(version=lease, by=person)
    # Nor does the ledger's own way of correcting a record work on a register's.
    with pytest.raises(ValidationError):
        disclosure.correct_record(original=lease.record, by=p.committee, reason="改价格")
    fresh = EntryVersion.objects.get(pk=lease.pk)
    assert fresh.price == PRICE and fresh.record.status == Status.PUBLISHED
    assert register_problems(village) == [] and chain_ok(village)


def test_a_new_version_corrects_the_old_record_and_both_stay_in_the_chain(registers):
    p, village, pond = registers["p"], registers["village"], registers["pond"]
    second = services.draft_version(
        entry=pond.entry,
        by=p.committee,
        fields={**POND, "area": "13.20", "change_reason": "重新测量面积"},
    )
    publish_version(second, p)
    first = EntryVersion.objects.get(pk=pond.pk)
    assert second.record.corrects_id == first.record_id
    assert first.record.status == Status.PUBLISHED and first.area == Decimal("12.50")
    assert "面积（亩）：12.50" in first.record.body and "面积（亩）：13.20" in second.record.body
    chained = set(ChainEntry.objects.filter(council=village).values_list("record", flat=True))
    assert {first.record_id, second.record_id} <= chained
    assert list(services.current_versions(village, Register.RESOURCE)) == [second]
    assert register_problems(village) == [] and chain_ok(village)


def test_a_resolution_closed_after_the_disposal_took_effect_does_not_make_it_regular(tree):
    """Back-dating a disposal behind a later meeting: the lease began yesterday, the motion was
    carried today. Refused, or published as irregular with the reason in its text."""
    p, village = people(tree), tree["village"]
    pond = published_pond(village, p)
    yesterday = timezone.localdate() - datetime.timedelta(days=1)
    later = motion(village, p.committee, title="补开的决议")
    fields = lease_fields(
        pond, later, starts_on=yesterday, ends_on=yesterday + datetime.timedelta(days=365)
    )
    payments = [(yesterday, PRICE)]
    before = Entry.objects.count()
    with pytest.raises(ValidationError) as refused:
        services.draft_entry(
            council=village,
            by=p.committee,
            register=Register.CONTRACT,
            fields=fields,
            installments=payments,
        )
    assert "came after" in str(refused.value)
    assert Entry.objects.count() == before
    version = services.draft_entry(
        council=village,
        by=p.committee,
        register=Register.CONTRACT,
        fields=fields,
        installments=payments,
        after_the_fact=True,
    )
    with translation.override("zh-hans"):  # what is published is in the village's language
        came_after = services.resolution_problem(later, village, yesterday)
    assert version.irregular and version.irregular_reason.startswith(came_after)
    publish_version(version, p)
    assert version.irregular_reason in version.record.body
    assert register_problems(village) == [] and chain_ok(village)
    # Clearing the mark in the database afterwards is found.
    sql("UPDATE assets_entryversion SET irregular = FALSE WHERE id = %s", [version.pk])
    assert [problem.version_id for problem in register_problems(village)] == [version.pk]


# --- the management commands ---------------------------------------------------------------------


def test_verify_registers_command_passes_clean_registers(registers, tree):
    out = StringIO()
    call_command("verify_registers", stdout=out)
    assert f"council {registers['village'].pk}: OK, 2 published version(s)" in out.getvalue()
    out = StringIO()
    call_command("verify_registers", "--council", str(tree["other_village"].pk), stdout=out)
    assert "1 council(s) verified" in out.getvalue()


def test_verify_registers_command_fails_naming_the_tampered_entry(registers, tree):
    village, lease = registers["village"], registers["lease"]
    sql("UPDATE assets_entryversion SET price = 3000 WHERE id = %s", [lease.pk])
    for args in ((), ("--council", str(village.pk))):
        err = StringIO()
        with pytest.raises(CommandError) as failed:
            call_command("verify_registers", *args, stdout=StringIO(), stderr=err)
        assert failed.value.returncode == 1
        assert lease.entry.code in err.getvalue() and f"council {village.pk}" in err.getvalue()
    # Another village's registers are not this one's problem.
    out = StringIO()
    call_command("verify_registers", "--council", str(tree["other_village"].pk), stdout=out)
    assert "OK" in out.getvalue()


def test_verify_ledgers_passes_on_register_records_and_catches_their_tampering(registers):
    village, lease = registers["village"], registers["lease"]
    out = StringIO()
    call_command("verify_ledgers", "--council", str(village.pk), stdout=out)
    assert f"council {village.pk}: OK, 2 entries" in out.getvalue()
    sql(
        "UPDATE disclosure_record SET body = %s WHERE id = %s",
        [lease.record.body.replace("王*英", "王小英"), lease.record_id],
    )
    err = StringIO()
    with pytest.raises(CommandError):
        call_command("verify_ledgers", "--council", str(village.pk), stdout=StringIO(), stderr=err)
    assert f"record #{lease.record_id}" in err.getvalue()
