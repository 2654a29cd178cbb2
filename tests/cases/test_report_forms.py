"""Reporting a case from the field: a grid worker's report, a resident's demand, a dispute, a
household visit and its findings. Each page refuses who may not use it; bad input shows the
message and loses nothing typed; the last category and place are remembered."""

import decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cases.models import Case, CaseParty, CasePhoto, Source, Status, Visit, Whistle
from councils.models import Level
from tests.cases.conftest import grid_report
from tests.core.test_files_uploads import jpeg
from tests.councils.factories import member

pytestmark = pytest.mark.django_db

ID_NUMBER = "110105194912310021"


def report_url(council, source):
    return reverse("cases:report", args=[council.pk, source])


def demand(**overrides):
    return {
        "category": "roads",
        "title": "村口路灯不亮",
        "description": "第三根路灯坏了一周，晚上看不见路",
        "place": "村口桥头",
        **overrides,
    }


def html_of(response) -> str:
    return response.content.decode()


# -- who may use which form ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "source", "status"),
    [
        ("grid_worker", "grid_report", 200),
        ("committee", "grid_report", 200),
        ("official", "grid_report", 200),
        ("resident", "grid_report", 403),
        ("supervisor", "grid_report", 403),
        ("representative", "grid_report", 403),
        ("other_committee", "grid_report", 403),
        ("other_official", "grid_report", 403),
        ("resident", "demand", 200),
        ("neighbour", "dispute", 200),
        ("other_committee", "demand", 403),
        ("other_official", "dispute", 403),
    ],
)
def test_report_forms_open_only_to_who_may_report_in_the_grid(
    client, tree, people, who, source, status
):
    client.force_login(people[who])
    response = client.get(report_url(tree["grid"], source))
    assert response.status_code == status


def test_anonymous_is_sent_to_sign_in_for_every_report_form(client, tree):
    for source in ("grid_report", "demand", "dispute"):
        response = client.get(report_url(tree["village"], source))
        assert response.status_code == 302 and "/login/" in response["Location"]
    response = client.get(reverse("cases:log_visit", args=[tree["grid"].pk]))
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_nobody_reports_in_a_township_nor_with_an_unknown_source(client, tree, people):
    client.force_login(people["official"])
    assert client.get(report_url(tree["township"], "grid_report")).status_code == 403
    assert client.get(report_url(tree["grid"], "visit")).status_code == 404
    assert client.get(report_url(tree["grid"], "topic")).status_code == 404
    assert client.get(reverse("cases:report", args=[10**25, "demand"])).status_code == 404


def test_a_resident_posting_a_grid_report_is_refused_and_nothing_is_made(client, tree, people):
    client.force_login(people["resident"])
    response = client.post(report_url(tree["grid"], "grid_report"), demand(level="routine"))
    assert response.status_code == 403
    assert "Only grid workers and the committee report events here." in html_of(response)
    assert not Case.objects.exists()


# -- a grid worker's report ------------------------------------------------------------------------


def test_grid_worker_reports_with_level_coordinates_and_a_photo(client, tree, people):
    client.force_login(people["grid_worker"])
    response = client.post(
        report_url(tree["grid"], "grid_report"),
        demand(
            level="priority",
            latitude="26.0812345678",
            longitude="119.3012345678",
            public="on",
            photo_1=SimpleUploadedFile("lamp.jpg", jpeg(), "image/jpeg"),
        ),
    )
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:case", args=[case.pk])
    assert case.source == Source.GRID_REPORT and case.level == Whistle.PRIORITY
    assert case.reporter == people["grid_worker"] and case.council == tree["grid"]
    assert case.latitude == decimal.Decimal("26.081235")
    assert case.longitude == decimal.Decimal("119.301235")
    assert case.public is True
    assert CasePhoto.objects.filter(event__case=case).count() == 1


def test_the_grid_report_form_works_without_javascript(client, tree, people):
    client.force_login(people["grid_worker"])
    html = html_of(client.get(report_url(tree["grid"], "grid_report")))
    # The location button is hidden until the optional script shows it; the fields are plain.
    assert 'class="js-locate" hidden' in html
    assert 'name="latitude"' in html and 'name="longitude"' in html
    assert 'type="radio" name="level" value="routine"' in html
    assert 'enctype="multipart/form-data"' in html


def test_only_one_coordinate_is_refused(client, tree, people):
    client.force_login(people["grid_worker"])
    response = client.post(
        report_url(tree["grid"], "grid_report"), demand(level="routine", latitude="26.08")
    )
    assert response.status_code == 400
    assert "Give both the latitude and the longitude, or neither." in html_of(response)
    assert not Case.objects.exists()


def test_a_grid_report_without_a_level_is_refused(client, tree, people):
    client.force_login(people["grid_worker"])
    response = client.post(report_url(tree["grid"], "grid_report"), demand())
    assert response.status_code == 400
    assert "Choose a whistle level." in html_of(response)
    assert not Case.objects.exists()


# -- bad input loses nothing -----------------------------------------------------------------------


def test_missing_title_keeps_everything_typed_and_asks_for_the_photos_again(client, tree, people):
    client.force_login(people["resident"])
    response = client.post(
        report_url(tree["village"], "demand"),
        demand(title="", photo_1=SimpleUploadedFile("lamp.jpg", jpeg(), "image/jpeg")),
    )
    html = html_of(response)
    assert response.status_code == 400
    assert "Give the case a short title." in html
    assert "第三根路灯坏了一周，晚上看不见路</textarea>" in html
    assert 'value="村口桥头"' in html
    assert '<option value="roads" selected>' in html
    assert "Choose the photos again" in html
    assert not Case.objects.exists() and not CasePhoto.objects.exists()


def test_an_id_number_is_shown_on_its_field_and_nothing_is_saved(client, tree, people):
    client.force_login(people["resident"])
    response = client.post(
        report_url(tree["village"], "demand"),
        demand(description=f"邻居身份证{ID_NUMBER}占了路"),
    )
    html = html_of(response)
    assert response.status_code == 400
    field = html[html.index('<div class="field has-error">') :]
    field = field[: field.index("</div>")]
    assert 'name="description"' in field
    assert "Remove the ID card number" in field
    assert ID_NUMBER in html  # kept, so the person only deletes the number
    assert "Choose the photos again" not in html  # none were sent
    assert not Case.objects.exists()


def test_a_phone_number_in_a_public_report_is_refused_but_private_is_kept(client, tree, people):
    client.force_login(people["resident"])
    text = demand(description="路灯坏了，联系我13812345678", public="on")
    response = client.post(report_url(tree["village"], "demand"), text)
    assert response.status_code == 400
    assert "Remove the phone number" in html_of(response)
    assert not Case.objects.exists()
    text.pop("public")
    assert client.post(report_url(tree["village"], "demand"), text).status_code == 302
    assert Case.objects.get().public is False


def test_a_photo_that_is_not_a_photo_is_refused_with_its_name(client, tree, people):
    client.force_login(people["resident"])
    response = client.post(
        report_url(tree["village"], "demand"),
        demand(photo_1=SimpleUploadedFile("notes.jpg", b"not an image", "image/jpeg")),
    )
    assert response.status_code == 400
    assert "notes.jpg is not a JPEG, PNG or WebP photo" in html_of(response)
    assert "Choose the photos again" in html_of(response)
    assert not Case.objects.exists()


# -- a resident's demand ---------------------------------------------------------------------------


def test_a_resident_cannot_choose_the_whistle_level(client, tree, people):
    client.force_login(people["resident"])
    html = html_of(client.get(report_url(tree["village"], "demand")))
    assert 'name="level"' not in html
    response = client.post(report_url(tree["village"], "demand"), demand(level="difficult"))
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.level == Whistle.ROUTINE and case.source == Source.DEMAND
    assert case.handler_council != tree["township"]


def test_a_personal_category_is_never_public(client, tree, people):
    client.force_login(people["resident"])
    client.post(report_url(tree["village"], "demand"), demand(category="welfare", public="on"))
    assert Case.objects.get().public is False


# -- disputes --------------------------------------------------------------------------------------


def dispute(**parties):
    return demand(category="neighbours", title="宅基地边界", place="", **parties)


def test_a_dispute_with_one_party_is_refused_and_keeps_the_names(client, tree, people):
    client.force_login(people["resident"])
    response = client.post(
        report_url(tree["village"], "dispute"),
        dispute(party_name_1="王大", party_side_1="applicant"),
    )
    html = html_of(response)
    assert response.status_code == 400
    assert "A dispute names at least two parties." in html
    assert 'value="王大"' in html
    assert not Case.objects.exists() and not CaseParty.objects.exists()


def test_a_party_without_a_side_is_refused(client, tree, people):
    client.force_login(people["resident"])
    response = client.post(
        report_url(tree["village"], "dispute"),
        dispute(party_name_1="王大", party_side_1="applicant", party_name_2="李二"),
    )
    assert response.status_code == 400
    assert "Say which side this party is on." in html_of(response)
    assert not Case.objects.exists()


def test_an_id_number_in_a_party_name_is_refused(client, tree, people):
    client.force_login(people["resident"])
    response = client.post(
        report_url(tree["village"], "dispute"),
        dispute(
            party_name_1="王大",
            party_side_1="applicant",
            party_name_2=ID_NUMBER,
            party_side_2="respondent",
        ),
    )
    assert response.status_code == 400
    assert "Remove the ID card number" in html_of(response)
    assert not Case.objects.exists()


def test_a_dispute_names_its_parties_and_is_never_public(client, tree, people):
    client.force_login(people["resident"])
    html = html_of(client.get(report_url(tree["village"], "dispute")))
    assert 'name="public"' not in html and 'name="party_name_4"' in html
    response = client.post(
        report_url(tree["village"], "dispute"),
        dispute(
            party_name_1="王大",
            party_side_1="applicant",
            party_name_2="李二",
            party_side_2="respondent",
            party_name_3="李三",
            party_side_3="respondent",
            public="on",
        ),
    )
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.source == Source.DISPUTE and case.public is False
    assert sorted(case.parties.values_list("name", "side")) == [
        ("李三", "respondent"),
        ("李二", "respondent"),
        ("王大", "applicant"),
    ]


# -- remembered category and place -----------------------------------------------------------------


def test_the_last_category_and_place_are_offered_next_time(client, tree, people):
    client.force_login(people["grid_worker"])
    url = report_url(tree["grid"], "grid_report")
    assert '<option value="sanitation" selected>' not in html_of(client.get(url))
    client.post(url, demand(category="sanitation", place="垃圾站旁", level="routine"))
    html = html_of(client.get(url))
    assert '<option value="sanitation" selected>' in html
    assert 'value="垃圾站旁"' in html


def test_a_remembered_place_belongs_to_its_council_and_its_person(client, tree, people):
    committee = people["committee"]
    client.force_login(committee)
    client.post(
        report_url(tree["grid"], "grid_report"),
        demand(category="safety", place="河堤", level="routine"),
    )
    village_form = html_of(client.get(report_url(tree["village"], "grid_report")))
    assert '<option value="safety" selected>' in village_form
    assert 'value="河堤"' not in village_form  # another council's place
    # Someone else signing in on the same phone does not get them.
    client.force_login(people["grid_worker"])
    html = html_of(client.get(report_url(tree["grid"], "grid_report")))
    assert '<option value="safety" selected>' not in html and "河堤" not in html


def test_a_refused_report_is_not_remembered(client, tree, people):
    client.force_login(people["resident"])
    url = report_url(tree["village"], "demand")
    client.post(url, demand(category="safety", title=""))
    assert '<option value="safety" selected>' not in html_of(client.get(url))


# -- household visits and their findings -----------------------------------------------------------


def test_a_grid_worker_logs_a_visit_and_reports_a_finding_of_it(client, tree, people):
    client.force_login(people["grid_worker"])
    response = client.post(
        reverse("cases:log_visit", args=[tree["grid"].pk]),
        {"visited_on": "2026-01-05", "households": "12", "night": "on", "notes": "3户反映水压低"},
    )
    visit = Visit.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:visit", args=[visit.pk])
    assert visit.households == 12 and visit.night and visit.visitor == people["grid_worker"]
    page = html_of(client.get(response["Location"]))
    assert reverse("cases:report_finding", args=[visit.pk]) in page
    response = client.post(
        reverse("cases:report_finding", args=[visit.pk]),
        demand(category="roads", level="routine", public="on", title="水压低"),
    )
    case = Case.objects.get()
    assert response.status_code == 302
    assert case.source == Source.VISIT and case.visit == visit and case.council == tree["grid"]
    assert case.public is False  # a visit's findings are about households
    assert "水压低" in html_of(client.get(reverse("cases:visit", args=[visit.pk])))


@pytest.mark.parametrize("households", ["0", "", "很多"])
def test_a_visit_without_households_is_refused(client, tree, people, households):
    client.force_login(people["grid_worker"])
    response = client.post(
        reverse("cases:log_visit", args=[tree["grid"].pk]),
        {"visited_on": "2026-01-05", "households": households, "notes": "走访"},
    )
    assert response.status_code == 400
    assert "Give how many households were visited." in html_of(response)
    assert "走访</textarea>" in html_of(response)
    assert not Visit.objects.exists()


def test_an_id_number_in_visit_notes_is_refused(client, tree, people):
    client.force_login(people["grid_worker"])
    response = client.post(
        reverse("cases:log_visit", args=[tree["grid"].pk]),
        {"visited_on": "2026-01-05", "households": "3", "notes": f"户主{ID_NUMBER}"},
    )
    assert response.status_code == 400
    assert "Remove the ID card number" in html_of(response)
    assert not Visit.objects.exists()


@pytest.mark.parametrize("who", ["resident", "supervisor", "other_committee", "other_official"])
def test_visits_are_closed_to_those_who_do_not_log_them(client, tree, people, who):
    from cases import services

    visit = services.log_visit(visitor=people["grid_worker"], council=tree["grid"], households=4)
    client.force_login(people[who])
    assert client.get(reverse("cases:log_visit", args=[tree["grid"].pk])).status_code == 403
    assert client.get(reverse("cases:visit", args=[visit.pk])).status_code == 403
    response = client.post(
        reverse("cases:report_finding", args=[visit.pk]), demand(level="routine")
    )
    assert response.status_code == 403
    assert not Case.objects.exists()


def test_the_committee_reads_the_grid_workers_visit(client, tree, people):
    from cases import services

    visit = services.log_visit(
        visitor=people["grid_worker"], council=tree["grid"], households=4, notes="独居老人"
    )
    client.force_login(people["committee"])
    response = client.get(reverse("cases:visit", args=[visit.pk]))
    assert response.status_code == 200 and "独居老人" in html_of(response)


def test_a_finding_report_form_refuses_bad_input_like_the_others(client, tree, people):
    from cases import services

    visit = services.log_visit(visitor=people["grid_worker"], council=tree["grid"], households=4)
    client.force_login(people["grid_worker"])
    response = client.post(
        reverse("cases:report_finding", args=[visit.pk]),
        demand(level="routine", description=f"身份证{ID_NUMBER}"),
    )
    assert response.status_code == 400
    assert "Remove the ID card number" in html_of(response)
    assert not Case.objects.exists()


# -- the council page ------------------------------------------------------------------------------


def test_the_council_page_offers_the_reports_each_person_may_make(client, tree, people):
    grid_report(tree, people, public=True)
    grid_report(tree, people, public=False, category="welfare")
    village = tree["village"]
    anonymous = html_of(client.get(village.url))
    assert "1 public case is being handled here." in anonymous
    assert reverse("cases:public", args=[village.pk]) in anonymous
    assert report_url(village, "demand") not in anonymous
    client.force_login(people["resident"])
    html = html_of(client.get(village.url))
    assert report_url(village, "demand") in html and report_url(village, "dispute") in html
    assert report_url(village, "grid_report") not in html
    assert reverse("cases:mine") in html
    client.force_login(people["committee"])
    html = html_of(client.get(village.url))
    assert report_url(village, "grid_report") in html
    assert reverse("cases:log_visit", args=[village.pk]) in html


def test_the_council_section_is_not_on_a_township(client, tree, people):
    client.force_login(people["official"])
    html = html_of(client.get(tree["township"].url))
    assert 'id="cases-heading"' not in html


def test_a_closed_case_is_not_counted_as_open(client, tree, people):
    from cases import services

    case = grid_report(tree, people, public=True, level=Whistle.DIFFICULT)
    official = people["official"]
    services.accept_case(user=official, case=case)
    services.resolve_case(user=official, case=case, outcome="修好了")
    services.confirm_case(user=people["grid_worker"], case=case, satisfaction=5)
    assert Case.objects.get().status == Status.CLOSED
    html = html_of(client.get(tree["village"].url))
    assert "0 public cases are being handled here." in html


def test_a_worthies_council_page_has_no_report_buttons(client, tree, people):
    from tests.councils.factories import make_council

    worthies = make_council(tree["village"], level=Level.WORTHIES, title="乡贤参事会")
    client.force_login(member(worthies))
    html = html_of(client.get(worthies.url))
    assert 'id="cases-heading"' not in html
