"""The registers' pages: what residents see, the committee's forms (bad input kept and explained),
submitting a draft, attaching a file, the township's thresholds and the council page's section."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from assets import selectors, services
from assets.models import Entry, EntryVersion, Register, Threshold
from disclosure.models import Status
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


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def text(response) -> str:
    return response.content.decode()


def registers_url(village, register=""):
    url = reverse("assets:registers", args=[village.pk])
    return f"{url}?register={register}" if register else url


def sold_after_the_fact(tree, p):
    """A building sold a month ago without a resolution, published as irregular."""
    building = published_asset(tree["village"], p, OFFICE)
    sold = services.draft_version(
        entry=building.entry, by=p.committee, fields=sold_a_month_ago(OFFICE), after_the_fact=True
    )
    return publish_version(sold, p)


# --- public pages -------------------------------------------------------------------------------


def test_the_registers_show_published_entries_to_anyone_and_no_draft(
    client, tree, django_assert_max_num_queries
):
    p = people(tree)
    published_pond(tree["village"], p)
    services.draft_entry(
        council=tree["village"],
        by=p.committee,
        register=Register.RESOURCE,
        fields={**POND, "name": "村西林地", "category": "forest"},
    )
    with django_assert_max_num_queries(12):
        response = client.get(registers_url(tree["village"], "resource"))
    assert response.status_code == 200
    page = text(response)
    assert "村东鱼塘" in page and "12.50" in page and "Pond and water surface" in page
    assert "村西林地" not in page and "Not yet published" not in page
    assert 'aria-current="page">Resources (1)' in page


def test_a_contract_shows_its_masked_counterparty_term_and_price(client, tree):
    p = people(tree)
    pond = published_pond(tree["village"], p)
    carried = motion(tree["village"], p.committee)
    contract = services.draft_entry(
        council=tree["village"],
        by=p.committee,
        register=Register.CONTRACT,
        fields=lease_fields(pond.entry, resolution=carried),
    )
    publish_version(contract, p)
    page = text(client.get(registers_url(tree["village"], "contract")))
    assert "王*英" in page and "王小英" not in page
    assert "30,000.00" in page and TODAY().isoformat() in page
    entry_page = text(client.get(contract.entry.get_absolute_url()))
    session_url = reverse("meetings:session", args=[carried.session_id])
    assert f'href="{session_url}#motion-{carried.pk}"' in entry_page
    assert f'href="{contract.record.get_absolute_url()}"' in entry_page
    assert f'href="{pond.entry.get_absolute_url()}"' in entry_page
    assert 'id="payments"' in entry_page
    assert "王小英" not in entry_page


def test_a_long_register_is_paginated(client, tree, monkeypatch):
    monkeypatch.setattr(selectors, "PER_PAGE", 1)
    p = people(tree)
    published_pond(tree["village"], p)
    forest = services.draft_entry(
        council=tree["village"],
        by=p.committee,
        register=Register.RESOURCE,
        fields={**POND, "name": "村西林地", "category": "forest"},
    )
    publish_version(forest, p)
    first = text(client.get(registers_url(tree["village"], "resource")))
    second = text(client.get(registers_url(tree["village"], "resource") + "&page=2"))
    assert "村东鱼塘" in first and "村西林地" not in first
    assert "村西林地" in second and "村东鱼塘" not in second
    assert "?register=resource&amp;page=2" in first


def test_an_irregular_entry_is_marked_in_words_for_everyone(client, tree):
    p = people(tree)
    sold = sold_after_the_fact(tree, p)
    assert sold.irregular and sold.is_published
    registers = text(client.get(registers_url(tree["village"], "asset")))
    assert "⚠ Irregular" in registers
    assert "1 entry is irregular" in registers
    entry_page = text(client.get(sold.entry.get_absolute_url()))
    assert "⚠ Irregular" in entry_page and "120000" in entry_page
    version_page = text(client.get(sold.get_absolute_url()))
    assert "⚠ Irregular" in version_page and "已出售" in version_page


def test_a_regular_entry_carries_no_irregular_mark(client, tree):
    p = people(tree)
    pond = published_pond(tree["village"], p)
    assert "Irregular" not in text(client.get(registers_url(tree["village"], "resource")))
    assert "Irregular" not in text(client.get(pond.entry.get_absolute_url()))


def test_the_entry_page_lists_its_versions_with_what_changed(client, tree):
    p = people(tree)
    pond = published_pond(tree["village"], p)
    second = services.draft_version(
        entry=pond.entry,
        by=p.committee,
        fields={**POND, "area": "13", "change_reason": "重新丈量，面积为13亩"},
    )
    publish_version(second, p)
    page = text(client.get(pond.entry.get_absolute_url()))
    assert "13.00" in page and "重新丈量，面积为13亩" in page
    assert f'href="{pond.get_absolute_url()}"' in page
    assert f'href="{second.get_absolute_url()}"' in page
    old = text(client.get(pond.get_absolute_url()))
    assert "12.50" in old  # an earlier version stays as it was published


def test_the_council_page_shows_the_registers_section(client, tree):
    p = people(tree)
    sold_after_the_fact(tree, p)
    page = text(client.get(tree["village"].url))
    assert "Collective assets, resources and contracts" in page
    assert f'href="{registers_url(tree["village"])}"' in page
    assert "1 irregular entry" in page
    assert "Assets: 1" in page and "Contracts: 0" in page


def test_the_section_is_not_on_a_township_page(client, tree):
    assert selectors.registers_section(tree["township"], None) is None


# --- the committee's forms ----------------------------------------------------------------------


def test_bad_input_is_explained_next_to_its_field_and_kept(client, tree):
    p = people(tree)
    client.force_login(p.committee)
    url = reverse("assets:entry_new", args=[tree["village"].pk])
    response = client.post(
        url,
        {
            "register": "resource",
            "name": "村东鱼塘",
            "category": "pond",
            "area": "十二亩",
            "location": "村东头",
            "boundaries": "东至水渠",
        },
    )
    assert response.status_code == 400
    page = text(response)
    assert "Enter a number, such as 12000 or 12000.50." in page
    assert 'value="村东鱼塘"' in page and 'value="十二亩"' in page and "东至水渠" in page
    form = response.context["form"]
    assert list(form.errors) == ["area"]
    assert not Entry.objects.exists()


def test_a_schedule_that_does_not_add_up_is_refused_and_kept(client, tree):
    p = people(tree)
    pond = published_pond(tree["village"], p)
    carried = motion(tree["village"], p.committee)
    client.force_login(p.committee)
    today = TODAY()
    data = {
        **{k: v for k, v in lease_fields(pond.entry.pk).items()},
        "register": "contract",
        "resolution": carried.pk,
        "pay-TOTAL_FORMS": "4",
        "pay-INITIAL_FORMS": "0",
        "pay-MIN_NUM_FORMS": "0",
        "pay-MAX_NUM_FORMS": "60",
        "pay-0-due_on": today.isoformat(),
        "pay-0-amount": "10000",
        "pay-1-due_on": (today + datetime.timedelta(days=365)).isoformat(),
        "pay-1-amount": "10000",
    }
    response = client.post(reverse("assets:entry_new", args=[tree["village"].pk]), data)
    assert response.status_code == 400
    page = text(response)
    assert "add up to 20000.00 yuan, but the total price is 30000.00 yuan" in page
    assert 'value="10000"' in page and 'value="王小英"' in page
    assert not Entry.objects.filter(register=Register.CONTRACT).exists()
    data["pay-2-due_on"] = (today + datetime.timedelta(days=730)).isoformat()
    data["pay-2-amount"] = "10000"
    response = client.post(reverse("assets:entry_new", args=[tree["village"].pk]), data)
    assert response.status_code == 302
    version = EntryVersion.objects.get(entry__register=Register.CONTRACT)
    assert version.counterparty == "王*英" and version.resolution == carried
    assert [i.amount for i in version.installments.all()] == [Decimal("10000")] * 3


def test_a_lease_without_a_resolution_is_refused_at_the_resolution_field(client, tree):
    p = people(tree)
    pond = published_pond(tree["village"], p)
    client.force_login(p.committee)
    response = client.post(
        reverse("assets:entry_new", args=[tree["village"].pk]),
        {
            **lease_fields(pond.entry.pk),
            "register": "contract",
            "pay-TOTAL_FORMS": "0",
            "pay-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 400
    assert "resolution" in response.context["form"].errors
    assert "Put it to the villagers&#x27; representatives&#x27; meeting first" in text(response)


def test_the_resolution_choices_are_this_villages_carried_motions(client, tree):
    p = people(tree)
    carried = motion(tree["village"], p.committee, title="同意出租鱼塘")
    lost = motion(tree["village"], p.committee, title="同意出售旧楼", carried=False)
    from councils.models import Role
    from tests.councils.factories import member

    chair = member(tree["other_village"], Role.COMMITTEE, user=member(tree["other_village"]))
    elsewhere = motion(tree["other_village"], chair, title="石桥村的决议")
    client.force_login(p.committee)
    response = client.get(
        reverse("assets:entry_new", args=[tree["village"].pk]) + "?register=contract"
    )
    choices = list(response.context["form"].fields["resolution"].queryset)
    assert choices == [carried]
    assert lost not in choices and elsewhere not in choices
    assert "同意出租鱼塘" in text(response)


def test_choosing_a_register_comes_first(client, tree):
    p = people(tree)
    client.force_login(p.committee)
    response = client.get(reverse("assets:entry_new", args=[tree["village"].pk]))
    assert response.status_code == 200 and "choice_form" in response.context
    assert 'name="register"' in text(response) and 'value="contract"' in text(response)


def test_a_draft_is_edited_and_keeps_bad_input(client, tree):
    p = people(tree)
    draft = services.draft_entry(
        council=tree["village"], by=p.committee, register=Register.RESOURCE, fields=POND
    )
    client.force_login(p.committee)
    url = reverse("assets:version_edit", args=[draft.pk])
    assert 'value="村东鱼塘"' in text(client.get(url))
    bad = client.post(url, {**POND, "register": "resource", "area": "-3"})
    assert bad.status_code == 400 and 'value="-3"' in text(bad)
    assert "Enter an amount from 0" in text(bad)
    good = client.post(url, {**POND, "register": "resource", "area": "14"})
    assert good.status_code == 302
    draft.refresh_from_db()
    assert draft.area == Decimal("14.00")


def test_a_new_version_starts_from_the_current_one_and_needs_what_changed(client, tree):
    p = people(tree)
    pond = published_pond(tree["village"], p)
    client.force_login(p.committee)
    url = reverse("assets:version_new", args=[pond.entry.pk])
    form_page = text(client.get(url))
    assert 'value="村东鱼塘"' in form_page and 'value="12.50"' in form_page
    missing = client.post(url, {**POND, "register": "resource", "area": "13"})
    assert missing.status_code == 400 and "change_reason" in missing.context["form"].errors
    assert 'value="13"' in text(missing)
    assert pond.entry.versions.count() == 1
    made = client.post(
        url, {**POND, "register": "resource", "area": "13", "change_reason": "重新丈量"}
    )
    assert made.status_code == 302
    second = pond.entry.versions.get(number=2)
    assert second.area == Decimal("13.00") and second.record.corrects == pond.record
    # While it is a draft, a third one cannot be started.
    again = client.get(url)
    assert again.status_code == 302 and again["Location"] == second.get_absolute_url()


def test_a_drafted_entry_is_submitted_to_the_supervisors(client, tree):
    p = people(tree)
    draft = services.draft_entry(
        council=tree["village"], by=p.committee, register=Register.RESOURCE, fields=POND
    )
    client.force_login(p.committee)
    page = text(client.get(draft.get_absolute_url()))
    assert reverse("assets:version_submit", args=[draft.pk]) in page
    response = client.post(reverse("assets:version_submit", args=[draft.pk]), follow=True)
    assert "Sent to the supervisory committee for review." in text(response)
    draft.record.refresh_from_db()
    assert draft.record.status == Status.IN_REVIEW
    # In review, the committee can no longer change it.
    assert client.get(reverse("assets:version_edit", args=[draft.pk])).status_code == 403


def test_submitting_a_disposal_no_longer_allowed_is_refused_with_the_reason(client, tree):
    p = people(tree)
    services.set_thresholds(township=tree["township"], by=p.official, write_off_amount="5000")
    computer = published_asset(tree["village"], p, COMPUTER)
    write_off = services.draft_version(
        entry=computer.entry, by=p.committee, fields=written_off_today(COMPUTER)
    )
    services.set_thresholds(township=tree["township"], by=p.official, write_off_amount="1000")
    client.force_login(p.committee)
    response = client.post(reverse("assets:version_submit", args=[write_off.pk]), follow=True)
    assert "Write-offs above 1000.00 yuan" in text(response)
    write_off.record.refresh_from_db()
    assert write_off.record.status == Status.DRAFT


def test_a_photo_is_attached_to_a_draft_and_served_with_its_record(client, tree):
    p = people(tree)
    draft = services.draft_entry(
        council=tree["village"], by=p.committee, register=Register.RESOURCE, fields=POND
    )
    client.force_login(p.committee)
    url = reverse("assets:version_attach", args=[draft.pk])
    bad = client.post(url, {"file": SimpleUploadedFile("塘.exe", b"MZ...")})
    assert bad.status_code == 400 and not draft.record.attachments.exists()
    buffer = io.BytesIO()
    Image.new("RGB", (2, 2), "green").save(buffer, "JPEG")
    photo = SimpleUploadedFile("鱼塘.jpg", buffer.getvalue(), "image/jpeg")
    assert client.post(url, {"file": photo}).status_code == 302
    attachment = draft.record.attachments.get()
    page = text(client.get(draft.get_absolute_url()))
    assert "鱼塘.jpg" in page and attachment.get_absolute_url() in page
    client.logout()
    assert client.get(attachment.get_absolute_url()).status_code == 404  # still a draft


# --- thresholds -----------------------------------------------------------------------------------


def test_without_thresholds_every_disposal_needs_a_resolution(client, tree):
    page = text(client.get(reverse("assets:thresholds", args=[tree["township"].pk])))
    assert "Not set: every disposal needs a resolution." in page
    assert "<form" not in page.split("<main", 1)[-1] or 'name="lease_amount"' not in page


def test_an_official_sets_the_thresholds_and_bad_input_is_kept(client, tree):
    p = people(tree)
    client.force_login(p.official)
    url = reverse("assets:thresholds", args=[tree["township"].pk])
    values = {
        "lease_amount": "50000",
        "lease_years": "5",
        "sale_amount": "-1",
        "write_off_amount": "2000",
        "grace_days": "15",
    }
    bad = client.post(url, values)
    assert bad.status_code == 400 and 'value="-1"' in text(bad)
    assert "sale_amount" in bad.context["form"].errors
    assert not Threshold.objects.exists()
    assert client.post(url, {**values, "sale_amount": "10000"}).status_code == 302
    row = Threshold.objects.get(township=tree["township"])
    assert (row.lease_amount, row.lease_years, row.sale_amount) == (
        Decimal("50000"),
        5,
        Decimal("10000"),
    )
    client.logout()
    public = text(client.get(url))
    assert "50,000.00" in public and 'name="lease_amount"' not in public


def test_a_new_version_of_a_contract_starts_from_its_schedule(client, tree):
    p = people(tree)
    pond = published_pond(tree["village"], p)
    carried = motion(tree["village"], p.committee)
    today = TODAY()
    contract = services.draft_entry(
        council=tree["village"],
        by=p.committee,
        register=Register.CONTRACT,
        fields=lease_fields(pond.entry, resolution=carried),
        installments=[(today, "15000"), (today + datetime.timedelta(days=365), "15000")],
    )
    publish_version(contract, p)
    client.force_login(p.committee)
    url = reverse("assets:version_new", args=[contract.entry.pk])
    form = client.get(url)
    formset = form.context["formset"]
    assert [f.initial for f in formset.forms[:2]] == [
        {"due_on": today.isoformat(), "amount": Decimal("15000.00")},
        {
            "due_on": (today + datetime.timedelta(days=365)).isoformat(),
            "amount": Decimal("15000.00"),
        },
    ]
    assert 'value="王*英"' in text(form)  # only the masked name was ever kept
    data = {
        **lease_fields(pond.entry.pk, price="36000", counterparty="王*英"),
        "register": "contract",
        "resolution": carried.pk,
        "change_reason": "续约后租金上调",
        "pay-TOTAL_FORMS": "6",
        "pay-INITIAL_FORMS": "2",
        "pay-MIN_NUM_FORMS": "0",
        "pay-MAX_NUM_FORMS": "60",
        "pay-0-due_on": today.isoformat(),
        "pay-0-amount": "18000",
        "pay-1-due_on": (today + datetime.timedelta(days=365)).isoformat(),
        "pay-1-amount": "18000",
    }
    assert client.post(url, data).status_code == 302
    second = contract.entry.versions.get(number=2)
    assert second.price == Decimal("36000.00") and second.counterparty == "王*英"
    assert [i.amount for i in second.installments.all()] == [Decimal("18000.00")] * 2
    assert [i.amount for i in contract.installments.all()] == [Decimal("15000.00")] * 2
