"""Issue 14, point 5, on a 360-px phone in Chinese: a committee member opens a hall and makes a
resident a village representative from the council's own pages, without the Wagtail admin, and
no page grows wider than the screen."""

import pytest
from playwright.sync_api import expect

from councils.models import CouncilAction, Membership, MembershipStatus, Role
from deliberation.models import Hall
from tests.councils.factories import make_tree, member

pytestmark = pytest.mark.browser

FITS = "document.documentElement.scrollWidth <= 360"


def test_committee_opens_a_hall_and_assigns_a_representative_on_a_phone(open_context, shots):
    village = make_tree()["village"]
    clerk = member(village)
    member(village, Role.COMMITTEE, user=clerk)
    resident = member(village)
    resident.display_name = "王秀英"
    resident.save(update_fields=["display_name"])

    page = open_context(clerk, phone=True, language="zh-hans")
    page.goto(village.url)
    assert page.evaluate(FITS), "the council page is wider than the phone"
    shots(page, "council-page")

    # A hall, from the council page.
    page.locator(f'a[href="/halls/councils/{village.pk}/halls/new/"]').click()
    assert page.evaluate(FITS), "the new-hall form is wider than the phone"
    shots(page, "new-hall-form")
    page.locator("#id_title").fill("老年人议事厅")
    page.locator("form.card button[type=submit]").click()
    hall = Hall.objects.get(council=village, title="老年人议事厅")
    expect(page).to_have_url(f"{page.url.split('/halls/')[0]}{hall.get_absolute_url()}")
    expect(page.get_by_role("heading", level=1)).to_contain_text("老年人议事厅")
    assert page.evaluate(FITS)

    # A representative, from the council page.
    page.goto(village.url)
    page.locator(f'a[href="/councils/{village.pk}/roles/"]').click()
    assert page.evaluate(FITS), "the roles page is wider than the phone"
    page.locator("#id_role").select_option("representative")
    page.locator("#id_person").select_option(str(resident.pk))
    shots(page, "roles-form")
    page.locator("form.card button[type=submit]").click()
    expect(page.locator("ul.roles")).to_contain_text("王秀英")
    assert page.evaluate(FITS), "the roles page with a holder is wider than the phone"
    shots(page, "roles-assigned")
    assert Membership.objects.filter(
        user=resident, role=Role.REPRESENTATIVE, status=MembershipStatus.VERIFIED
    ).exists()

    # Both acts are in the committee's log.
    page.goto(f"/councils/{village.pk}/actions/")
    assert page.evaluate(FITS), "the committee actions page is wider than the phone"
    shots(page, "actions")
    assert set(CouncilAction.objects.values_list("verb", flat=True)) == {
        "create_hall",
        "grant_role",
    }
