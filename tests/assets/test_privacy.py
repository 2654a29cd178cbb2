"""Privacy of the registers, tried as an attacker (or a careless clerk) would: a person who
leases or contracts village property is kept only as 王*英, in every row, record, chain and
journal, and on every public page; an organisation keeps its whole name; an ID card or mobile
number typed into any field is refused before anything is saved."""

import datetime
import io
import json
import zipfile
from decimal import Decimal

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.db import connection, models
from django.urls import reverse
from django.utils import timezone

from assets import services
from assets.models import Entry, EntryVersion, Installment, Register
from disclosure.hashchain import canonical_bytes, content_of
from disclosure.models import JournalEntry, Record, RecordEvent
from tests.assets.factories import POND, motion, people, publish_version, published_pond

pytestmark = pytest.mark.django_db

FULL_NAME = "王小英"
MASKED = "王*英"
ORGANISATION = "青山果业合作社"
ID_NUMBER = "11010519491231002X"  # GB 11643's example: a valid check digit
MOBILES = ("13812345678", "138 1234 5678", "+86 138-1234-5678", "１３８１２３４５６７８")


def lease(pond, resolution, **extra):
    today = timezone.localdate()
    return {
        "name": "村东鱼塘租赁合同",
        "contract_kind": "lease",
        "counterparty_kind": "person",
        "counterparty": FULL_NAME,
        "subject": pond.entry,
        "starts_on": today,
        "ends_on": today + datetime.timedelta(days=2 * 365),
        "price": "20000",
        "resolution": resolution,
        **extra,
    }


def schedule():
    today = timezone.localdate()
    return [(today, Decimal("10000")), (today + datetime.timedelta(days=365), Decimal("10000"))]


def stored_anywhere(text: str) -> list[str]:
    """Every table.column of the database whose stored text holds `text` (also as JSON's
    \\u escapes): rows, record bodies, chain and journal, events, notifications, logs."""
    needles = {text, json.dumps(text)[1:-1]}
    found = []
    find = "strpos(CAST({col} AS TEXT), %s) > 0"
    if connection.vendor == "sqlite":
        find = "instr(CAST({col} AS TEXT), %s) > 0"
    with connection.cursor() as cursor:
        for model in apps.get_models(include_auto_created=True):
            if model._meta.proxy or not model._meta.managed:
                continue
            table = model._meta.db_table
            for field in model._meta.local_fields:
                if not isinstance(field, models.CharField | models.TextField | models.JSONField):
                    continue
                column = connection.ops.quote_name(field.column)
                for needle in needles:
                    cursor.execute(
                        f"SELECT 1 FROM {connection.ops.quote_name(table)} WHERE "  # noqa: S608
                        + find.format(col=column)
                        + " LIMIT 1",
                        [needle],
                    )
                    if cursor.fetchone():
                        found.append(f"{table}.{field.column}")
    return found


def counts() -> tuple:
    return tuple(
        model.objects.count()
        for model in (Entry, EntryVersion, Installment, Record, RecordEvent, JournalEntry)
    )


@pytest.fixture
def leased(tree):
    p = people(tree)
    village = tree["village"]
    pond = published_pond(village, p)
    carried = motion(village, p.committee)
    version = services.draft_entry(
        council=village,
        by=p.committee,
        register=Register.CONTRACT,
        fields=lease(pond, carried),
        installments=schedule(),
    )
    version = publish_version(version, p)
    return {"p": p, "village": village, "pond": pond, "lease": version, "motion": carried}


def test_a_persons_full_name_is_stored_nowhere_only_masked(leased):
    version, p = leased["lease"], leased["p"]
    # A new version, with the name typed in full again: masked again.
    second = services.draft_version(
        entry=version.entry,
        by=p.committee,
        fields={
            **lease(leased["pond"], leased["motion"]),
            "counterparty": "王小英 ",
            "change_reason": "补充说明",
        },
        installments=schedule(),
    )
    publish_version(second, p)
    for made in (version, second):
        made.refresh_from_db()
        assert made.counterparty == MASKED
        assert f"：{MASKED}" in made.record.body
        assert MASKED in canonical_bytes(content_of(made.record)).decode()
    assert stored_anywhere(FULL_NAME) == []
    assert stored_anywhere("小英") == []  # nor the given name alone
    assert stored_anywhere(MASKED)  # the check finds what is there


def test_a_draft_changed_keeps_the_name_masked(leased):
    p, village = leased["p"], leased["village"]
    draft = services.draft_entry(
        council=village,
        by=p.committee,
        register=Register.CONTRACT,
        fields=lease(leased["pond"], leased["motion"], counterparty="欧阳小明"),
        installments=schedule(),
    )
    assert draft.counterparty == "欧**明"
    draft = services.update_version(
        version=draft,
        by=p.committee,
        fields=lease(leased["pond"], leased["motion"], counterparty="李四"),
    )
    assert draft.counterparty == "李*"
    assert stored_anywhere("欧阳小明") == [] and stored_anywhere("李四") == []


@pytest.mark.parametrize("field", ["name", "description"])
def test_the_persons_full_name_in_another_field_is_refused(leased, field):
    p, village = leased["p"], leased["village"]
    before = counts()
    with pytest.raises(ValidationError) as refused:
        services.draft_entry(
            council=village,
            by=p.committee,
            register=Register.CONTRACT,
            fields=lease(leased["pond"], leased["motion"], **{field: f"租给{FULL_NAME}的鱼塘"}),
            installments=schedule(),
        )
    assert field in refused.value.message_dict
    assert MASKED in refused.value.message_dict[field][0]
    assert counts() == before
    with pytest.raises(ValidationError) as refused:
        services.draft_version(
            entry=leased["lease"].entry,
            by=p.committee,
            fields=lease(
                leased["pond"], leased["motion"], change_reason=f"{FULL_NAME}要求降低租金"
            ),
            installments=schedule(),
        )
    assert "change_reason" in refused.value.message_dict
    assert counts() == before
    assert stored_anywhere(FULL_NAME) == []


def test_an_organisations_name_is_kept_whole(leased):
    p, village = leased["p"], leased["village"]
    version = services.draft_entry(
        council=village,
        by=p.committee,
        register=Register.CONTRACT,
        fields=lease(
            leased["pond"],
            leased["motion"],
            counterparty_kind="organisation",
            counterparty=ORGANISATION,
            description=f"{ORGANISATION}承包",
        ),
        installments=schedule(),
    )
    assert version.counterparty == ORGANISATION
    assert f"：{ORGANISATION}" in version.record.body


# --- ID card and mobile numbers ------------------------------------------------------------------

ASSET = {"name": "村委办公楼", "category": "building", "book_value": "50000"}


def _cases():
    numbers = [ID_NUMBER, *MOBILES]
    for number in numbers:
        for field in ("name", "location", "boundaries", "map_reference", "description"):
            yield Register.RESOURCE, field, number
        for field in ("name", "location", "description"):
            yield Register.ASSET, field, number
    for field in ("name", "description", "counterparty", "counterparty (organisation)"):
        yield Register.CONTRACT, field, ID_NUMBER
        yield Register.CONTRACT, field, MOBILES[0]
    yield Register.ASSET, "code", ID_NUMBER


@pytest.mark.parametrize(("register", "field", "number"), list(_cases()))
def test_an_id_or_mobile_number_in_any_field_is_refused_and_nothing_saved(
    leased, register, field, number
):
    p, village = leased["p"], leased["village"]
    code = ""
    if register == Register.RESOURCE:
        fields = {**POND, field: f"{POND.get(field, '鱼塘')} {number}"}
    elif register == Register.ASSET:
        fields = dict(ASSET)
        if field == "code":
            code = number
        else:
            fields[field] = f"{ASSET.get(field, '办公楼')} {number}"
    else:
        fields = lease(leased["pond"], leased["motion"])
        if field == "counterparty (organisation)":
            field = "counterparty"
            fields.update(counterparty_kind="organisation", counterparty=ORGANISATION + number)
        elif field == "counterparty":
            fields["counterparty"] = FULL_NAME + number
        else:
            fields[field] = f"鱼塘{number}"
    before = counts()
    with pytest.raises(ValidationError) as refused:
        services.draft_entry(
            council=village,
            by=p.committee,
            register=register,
            fields=fields,
            code=code,
            installments=schedule() if register == Register.CONTRACT else (),
        )
    assert field in refused.value.message_dict
    assert counts() == before
    digits = number.replace(" ", "").replace("-", "").replace("+86", "")
    assert stored_anywhere(digits) == [] and stored_anywhere(number) == []


def test_a_number_in_a_new_version_or_a_changed_draft_is_refused_and_the_draft_kept(leased):
    p, village = leased["p"], leased["village"]
    before = counts()
    with pytest.raises(ValidationError) as refused:
        services.draft_version(
            entry=leased["pond"].entry,
            by=p.committee,
            fields={**POND, "change_reason": f"承包人电话{MOBILES[0]}"},
        )
    assert "change_reason" in refused.value.message_dict
    assert counts() == before
    draft = services.draft_entry(
        council=village, by=p.committee, register=Register.ASSET, fields=ASSET
    )
    body = Record.objects.get(pk=draft.record_id).body
    with pytest.raises(ValidationError) as refused:
        services.update_version(
            version=draft,
            by=p.committee,
            fields={**ASSET, "description": f"经手人身份证{ID_NUMBER}"},
        )
    assert "description" in refused.value.message_dict
    draft.refresh_from_db()
    assert draft.description == "" and Record.objects.get(pk=draft.record_id).body == body
    assert stored_anywhere(ID_NUMBER) == []


def test_a_resolution_whose_title_holds_a_number_cannot_be_cited(leased, tree):
    """The register publishes the resolution's title: a number in it would be published too."""
    p, village = people(tree), tree["village"]
    pond = published_pond(village, p)
    carried = motion(village, p.committee, title=f"同意租给电话{MOBILES[0]}的承租人")
    before = counts()
    with pytest.raises(ValidationError) as refused:
        services.draft_entry(
            council=village,
            by=p.committee,
            register=Register.CONTRACT,
            fields=lease(pond, carried),
            installments=schedule(),
        )
    assert "resolution" in refused.value.message_dict
    assert counts() == before


# --- the public pages ----------------------------------------------------------------------------


def _text(response) -> str:
    if response["Content-Type"].startswith("application/vnd.openxmlformats"):
        with zipfile.ZipFile(io.BytesIO(response.content)) as workbook:
            return "".join(
                workbook.read(name).decode("utf-8")
                for name in workbook.namelist()
                if name.endswith(".xml")
            )
    return response.content.decode("utf-8")


def test_the_public_pages_never_show_the_full_name(client, leased):
    village, version = leased["village"], leased["lease"]
    pages = [
        village.url,
        reverse("assets:registers", args=[village.pk]),
        *(
            reverse("assets:registers", args=[village.pk]) + f"?register={register}"
            for register in Register.values
        ),
        reverse("assets:entry", args=[version.entry_id]),
        reverse("assets:version", args=[version.pk]),
        reverse("assets:entry", args=[leased["pond"].entry_id]),
        reverse("assets:export", args=[village.pk]),
        reverse("disclosure:record", args=[version.record_id]),
        reverse("disclosure:ledger", args=[village.pk, "village"]),
        reverse("disclosure:chain", args=[village.pk]),
        "/api/v1/records/",
        f"/api/v1/records/{version.record_id}/",
    ]
    seen = ""
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
        text = _text(response)
        assert FULL_NAME not in text and json.dumps(FULL_NAME)[1:-1] not in text, url
        seen += text
    assert MASKED in seen
