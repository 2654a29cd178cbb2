"""Who sees and does what on the registers' pages (docs/permissions.md, "Registers"): drafts
only for the village's committee and supervisors and the township's officials; the committee's
forms for the committee only; the thresholds for the township's officials only."""

import pytest
from django.test import Client
from django.urls import reverse

from assets import services
from assets.models import Entry, Register, Threshold
from councils.models import Role
from disclosure.models import Status
from tests.assets.factories import POND, people, published_pond
from tests.councils.factories import member

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
# Who may see drafts, and who may not.
SEE_DRAFTS = ("committee", "supervisor", "official")
NO_DRAFTS = (
    "anonymous",
    "outsider",
    "resident",
    "other_resident",
    "other_official",
    "other_committee",
)
NOT_KEEPERS = (
    "supervisor",
    "resident",
    "official",
    "other_official",
    "other_committee",
    "outsider",
)


@pytest.fixture
def world(tree):
    p = people(tree)
    other_committee = member(
        tree["other_village"], Role.COMMITTEE, user=member(tree["other_village"])
    )
    persons = {
        "anonymous": None,
        "outsider": p.outsider,
        "resident": p.resident,
        "other_resident": p.other_resident,
        "committee": p.committee,
        "supervisor": p.supervisor,
        "official": p.official,
        "other_official": p.other_official,
        "other_committee": other_committee,
    }
    draft = services.draft_entry(
        council=tree["village"],
        by=p.committee,
        register=Register.RESOURCE,
        fields={**POND, "name": "村西林地", "category": "forest"},
    )
    return {"tree": tree, "p": p, "persons": persons, "draft": draft}


def client_for(world, role) -> Client:
    client = Client()
    user = world["persons"][role]
    if user is not None:
        client.force_login(user)
    return client


# --- drafts -------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", NO_DRAFTS)
def test_a_draft_version_is_not_found_for_those_who_may_not_see_it(world, role):
    draft = world["draft"]
    client = client_for(world, role)
    assert client.get(draft.get_absolute_url()).status_code == 404
    assert client.get(draft.entry.get_absolute_url()).status_code == 404


@pytest.mark.parametrize("role", NO_DRAFTS)
def test_the_registers_page_hides_drafts(world, role):
    village = world["tree"]["village"]
    page = client_for(world, role).get(reverse("assets:registers", args=[village.pk]))
    assert page.status_code == 200
    assert "村西林地" not in page.content.decode() and page.context["drafts"] == []


@pytest.mark.parametrize("role", SEE_DRAFTS)
def test_the_committee_supervisors_and_township_see_drafts(world, role):
    draft = world["draft"]
    client = client_for(world, role)
    assert client.get(draft.get_absolute_url()).status_code == 200
    assert client.get(draft.entry.get_absolute_url()).status_code == 200
    page = client.get(reverse("assets:registers", args=[world["tree"]["village"].pk]))
    assert page.context["drafts"] == [draft]
    assert draft.get_absolute_url() in page.content.decode()


@pytest.mark.parametrize("role", ["anonymous", "resident", "other_official", "supervisor"])
def test_a_published_version_is_public(world, role):
    pond = published_pond(world["tree"]["village"], world["p"])
    client = client_for(world, role)
    assert client.get(pond.get_absolute_url()).status_code == 200
    assert client.get(pond.entry.get_absolute_url()).status_code == 200


def test_the_registers_of_a_township_are_not_found(world):
    url = reverse("assets:registers", args=[world["tree"]["township"].pk])
    assert Client().get(url).status_code == 404


# --- the committee's forms ----------------------------------------------------------------------


@pytest.mark.parametrize("role", NOT_KEEPERS)
def test_only_the_committee_opens_the_new_entry_form(world, role):
    url = reverse("assets:entry_new", args=[world["tree"]["village"].pk]) + "?register=asset"
    response = client_for(world, role).get(url)
    assert response.status_code == 403
    assert "Only the committee keeps the registers." in response.content.decode()


@pytest.mark.parametrize("role", NOT_KEEPERS)
def test_only_the_committee_adds_an_entry(world, role):
    url = reverse("assets:entry_new", args=[world["tree"]["village"].pk])
    before = Entry.objects.count()
    response = client_for(world, role).post(url, {**POND, "register": "resource"})
    assert response.status_code == 403 and Entry.objects.count() == before


def test_anonymous_is_sent_to_sign_in_for_every_form(world):
    draft, client = world["draft"], Client()
    for url in (
        reverse("assets:entry_new", args=[world["tree"]["village"].pk]),
        reverse("assets:version_edit", args=[draft.pk]),
        reverse("assets:version_new", args=[draft.entry.pk]),
    ):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    for name in ("assets:version_submit", "assets:version_attach"):
        response = client.post(reverse(name, args=[draft.pk]))
        assert response.status_code == 302 and response["Location"].startswith(LOGIN)


@pytest.mark.parametrize("role", ["supervisor", "official"])
def test_those_who_see_a_draft_may_still_not_change_it(world, role):
    draft = world["draft"]
    client = client_for(world, role)
    url = reverse("assets:version_edit", args=[draft.pk])
    assert client.get(url).status_code == 403
    response = client.post(url, {**POND, "register": "resource", "name": "改过的名字"})
    assert response.status_code == 403
    draft.refresh_from_db()
    assert draft.name == "村西林地"
    page = client.get(draft.get_absolute_url()).content.decode()
    assert url not in page and reverse("assets:version_submit", args=[draft.pk]) not in page


@pytest.mark.parametrize("role", ["resident", "other_official", "other_committee"])
def test_those_who_do_not_see_a_draft_cannot_change_it(world, role):
    draft = world["draft"]
    url = reverse("assets:version_edit", args=[draft.pk])
    assert client_for(world, role).post(url, {**POND, "register": "resource"}).status_code == 404


def test_a_published_version_is_never_edited_even_by_the_committee(world):
    pond = published_pond(world["tree"]["village"], world["p"])
    response = client_for(world, "committee").get(reverse("assets:version_edit", args=[pond.pk]))
    assert response.status_code == 403
    assert "A published version never changes" in response.content.decode()


@pytest.mark.parametrize("role", ["supervisor", "resident", "official", "other_committee"])
def test_only_the_committee_adds_a_new_version(world, role):
    pond = published_pond(world["tree"]["village"], world["p"])
    url = reverse("assets:version_new", args=[pond.entry.pk])
    response = client_for(world, role).post(
        url, {**POND, "register": "resource", "change_reason": "重新丈量"}
    )
    assert response.status_code == 403 and pond.entry.versions.count() == 1


@pytest.mark.parametrize("role", ["supervisor", "official"])
def test_only_the_committee_submits_a_draft(world, role):
    draft = world["draft"]
    response = client_for(world, role).post(
        reverse("assets:version_submit", args=[draft.pk]), follow=True
    )
    assert "Only the committee submits drafts." in response.content.decode()
    draft.record.refresh_from_db()
    assert draft.record.status == Status.DRAFT


@pytest.mark.parametrize("role", ["resident", "other_official"])
def test_a_draft_others_cannot_see_cannot_be_submitted(world, role):
    draft = world["draft"]
    response = client_for(world, role).post(reverse("assets:version_submit", args=[draft.pk]))
    assert response.status_code == 404
    draft.record.refresh_from_db()
    assert draft.record.status == Status.DRAFT


@pytest.mark.parametrize("role", ["supervisor", "official"])
def test_only_the_committee_attaches_files(world, role):
    from django.core.files.uploadedfile import SimpleUploadedFile

    draft = world["draft"]
    response = client_for(world, role).post(
        reverse("assets:version_attach", args=[draft.pk]),
        {"file": SimpleUploadedFile("凭证.pdf", b"%PDF-1.4\n% voucher\n", "application/pdf")},
    )
    assert response.status_code == 302 and not draft.record.attachments.exists()


def test_writes_are_post_only(world):
    client = client_for(world, "committee")
    for name in ("assets:version_submit", "assets:version_attach"):
        assert client.get(reverse(name, args=[world["draft"].pk])).status_code == 405


def test_writes_need_the_csrf_token(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world["p"].committee)
    response = client.post(reverse("assets:version_submit", args=[world["draft"].pk]))
    assert response.status_code == 403
    world["draft"].record.refresh_from_db()
    assert world["draft"].record.status == Status.DRAFT


# --- thresholds ---------------------------------------------------------------------------------

VALUES = {
    "lease_amount": "50000",
    "lease_years": "5",
    "sale_amount": "10000",
    "write_off_amount": "2000",
    "grace_days": "15",
}


@pytest.mark.parametrize(
    "role", ["committee", "supervisor", "resident", "other_official", "outsider"]
)
def test_only_the_townships_officials_set_its_thresholds(world, role):
    url = reverse("assets:thresholds", args=[world["tree"]["township"].pk])
    client = client_for(world, role)
    page = client.get(url)
    assert page.status_code == 200 and page.context["form"] is None
    assert client.post(url, VALUES).status_code == 403
    assert not Threshold.objects.exists()


def test_anonymous_is_sent_to_sign_in_to_set_thresholds(world):
    url = reverse("assets:thresholds", args=[world["tree"]["township"].pk])
    response = Client().post(url, VALUES)
    assert response.status_code == 302 and response["Location"].startswith(LOGIN)
    assert not Threshold.objects.exists()


def test_the_townships_official_sets_them(world):
    url = reverse("assets:thresholds", args=[world["tree"]["township"].pk])
    client = client_for(world, "official")
    assert client.get(url).context["form"] is not None
    assert client.post(url, VALUES).status_code == 302
    assert Threshold.objects.get().township == world["tree"]["township"]


def test_a_village_has_no_thresholds_page(world):
    url = reverse("assets:thresholds", args=[world["tree"]["village"].pk])
    assert client_for(world, "official").get(url).status_code == 404
