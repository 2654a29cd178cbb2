"""The index pages: they render for anonymous visitors and officials, the officials' forms do
what they say, and a form refused keeps what was typed and says why on the right row."""

import datetime
from decimal import Decimal

import pytest
from django.test import Client
from django.urls import reverse

from governance import index as scoring
from governance import services
from governance.models import (
    EnteredFigure,
    FigureStatus,
    Index,
    IndexVersion,
    Indicator,
    MetricValue,
    PeriodKind,
    VersionStatus,
)
from tests.governance.index_objects import LINK, figure, last_month, people, ruian_index

ID_NUMBER = "110105194912310021"


@pytest.fixture
def persons(tree):
    return people(tree)


@pytest.fixture
def index(tree, persons):
    return ruian_index(tree, persons["official"])


def client_of(user=None) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def test_the_index_page_shows_what_it_measures_and_the_scores_for_anonymous(tree, persons, index):
    version = index.versions.get()
    month = last_month()
    MetricValue.objects.create(
        council=tree["village"],
        council_path=tree["village"].path,
        council_level="village",
        period_kind=PeriodKind.MONTH,
        period_start=month,
        metric="disclosure_on_time",
        numerator=9,
        denominator=10,
        value=Decimal("90"),
    )
    figure(index, tree["village"], persons["official"], value="5", publish=True)
    scoring.compute_scores(version=version, period_kind=PeriodKind.MONTH, period_start=month)
    response = client_of().get(
        reverse("governance:index", args=[index.pk]), {"period": f"{month:%Y-%m}"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    for text in (
        "共富发展",
        "组织坚实",
        "党组织星级评定",
        "Records published on time",
        "柳树村",
        "石桥村",
    ):
        assert text in html, text
    assert "no data" in html  # the other village has nothing
    assert "Start a new version" not in html  # not for anonymous
    # Each metric value links to the records it counts.
    assert f"/governance/councils/{tree['village'].pk}/metrics/disclosure_on_time/" in html


def test_index_pages_use_a_constant_number_of_queries(
    tree, persons, index, django_assert_max_num_queries
):
    version = index.versions.get()
    scoring.compute_scores(version=version, period_kind=PeriodKind.MONTH, period_start=last_month())
    with django_assert_max_num_queries(12):
        client_of().get(reverse("governance:index", args=[index.pk]))


def test_an_old_version_stays_viewable_with_its_scores(tree, persons, index):
    official = persons["official"]
    v1 = index.versions.get()
    month = last_month()
    figure(index, tree["village"], official, value="5", publish=True)
    scoring.compute_scores(version=v1, period_kind=PeriodKind.MONTH, period_start=month)
    v2 = services.start_version(index=index, by=official)
    services.change_version(
        version=v2, star_thresholds=["50", "60"], note="降低星级线", by=official
    )
    services.publish_version(version=v2, by=official)
    html = client_of().get(reverse("governance:index", args=[index.pk])).content.decode()
    assert "降低星级线" in html and reverse("governance:version", args=[v1.pk]) in html
    old = client_of().get(reverse("governance:version", args=[v1.pk]), {"period": f"{month:%Y-%m}"})
    assert old.status_code == 200
    assert "was replaced" in old.content.decode() and "柳树村" in old.content.decode()


def test_index_list_and_create_from_the_template(tree, persons):
    url = reverse("governance:indexes", args=[tree["township"].pk])
    assert client_of().get(url).status_code == 200
    assert "Define an index" not in client_of(persons["committee"]).get(url).content.decode()
    official = client_of(persons["official"])
    assert "Define an index" in official.get(url).content.decode()
    response = official.post(url, {"template": "ruian", "name": ""})
    made = Index.objects.get(owner=tree["township"])
    assert response.status_code == 302 and made.name == "强基善治指数"
    again = official.post(url, {"template": "ruian", "name": ""})
    assert again.status_code == 400
    assert "already has an index of that name" in again.content.decode()
    # An empty index opens its draft.
    empty = official.post(url, {"template": "", "name": "自定义指数"})
    draft = IndexVersion.objects.get(index__name="自定义指数")
    assert empty["Location"] == reverse("governance:edit_version", args=[draft.pk])


def test_a_village_has_no_index_form_even_for_officials(tree, persons):
    url = reverse("governance:indexes", args=[tree["village"].pk])
    response = client_of(persons["official"]).get(url)
    assert response.status_code == 200 and "Define an index" not in response.content.decode()
    refused = client_of(persons["official"]).post(url, {"template": "ruian"})
    assert refused.status_code == 403 and not Index.objects.exists()


def test_editing_a_draft_keeps_the_input_and_shows_the_error_on_its_form(tree, persons, index):
    official = client_of(persons["official"])
    response = official.post(reverse("governance:start_version", args=[index.pk]))
    draft = IndexVersion.objects.get(index=index, status=VersionStatus.DRAFT)
    assert response["Location"] == reverse("governance:edit_version", args=[draft.pk])
    edit = reverse("governance:edit_version", args=[draft.pk])
    assert official.get(edit).status_code == 200
    dimension = draft.dimensions.get(code="zuzhi")
    bad = official.post(
        edit,
        {
            "action": "add_indicator",
            "target": dimension.pk,
            f"n{dimension.pk}-code": "clean-water",
            f"n{dimension.pk}-name": "饮用水达标",
            f"n{dimension.pk}-source": "metric",
            f"n{dimension.pk}-metric": "",
            f"n{dimension.pk}-weight": "5",
            f"n{dimension.pk}-floor": "0",
            f"n{dimension.pk}-target": "100",
        },
    )
    assert bad.status_code == 400
    html = bad.content.decode()
    assert "Choose one of Yishi" in html and "饮用水达标" in html and "clean-water" in html
    assert not Indicator.objects.filter(code="clean-water").exists()
    bad_stars = official.post(
        edit, {"action": "version", "star_1": "80", "star_2": "70", "note": "改了星级"}
    )
    assert bad_stars.status_code == 400 and "must go up" in bad_stars.content.decode()
    assert "改了星级" in bad_stars.content.decode()
    good = official.post(
        edit,
        {
            "action": "add_indicator",
            "target": dimension.pk,
            f"n{dimension.pk}-code": "clean-water",
            f"n{dimension.pk}-name": "饮用水达标",
            f"n{dimension.pk}-source": "entered",
            f"n{dimension.pk}-metric": "",
            f"n{dimension.pk}-weight": "5",
            f"n{dimension.pk}-floor": "0",
            f"n{dimension.pk}-target": "100",
        },
    )
    assert good.status_code == 302
    official.post(edit, {"action": "version", "star_1": "55", "note": "加了饮用水"})
    published = official.post(reverse("governance:publish_version", args=[draft.pk]))
    assert published.status_code == 302
    draft.refresh_from_db()
    assert draft.status == VersionStatus.PUBLISHED and draft.star_thresholds == ["55.00"]
    # Published: the edit page sends to the version's page; the old one is replaced.
    assert official.get(edit)["Location"] == reverse("governance:version", args=[draft.pk])
    assert IndexVersion.objects.get(index=index, number=1).status == VersionStatus.RETIRED


def test_entering_a_table_of_figures_is_all_or_nothing_with_errors_on_their_rows(
    tree, persons, index
):
    official = client_of(persons["official"])
    url = reverse("governance:enter_figures", args=[index.pk])
    period = f"{last_month():%Y-%m}"
    shown = official.get(url, {"code": "party-stars", "period": period})
    assert shown.status_code == 200 and "石桥村" in shown.content.decode()
    village, other = tree["village"], tree["other_village"]
    data = {
        "code": "party-stars",
        "period": period,
        f"v{village.pk}-value": "4",
        f"v{village.pk}-evidence_url": LINK,
        f"v{village.pk}-note": "镇党委评定",
        f"v{other.pk}-value": "3",
        f"v{other.pk}-evidence_url": "",
        f"v{other.pk}-note": f"身份证 {ID_NUMBER}",
    }
    refused = official.post(url, data)
    assert refused.status_code == 400
    html = refused.content.decode()
    assert "ID card number" in html and "镇党委评定" in html and LINK in html
    assert not EnteredFigure.objects.exists()
    data[f"v{other.pk}-note"] = ""
    refused = official.post(url, data)
    assert refused.status_code == 400 and "Add the evidence" in refused.content.decode()
    data[f"v{other.pk}-value"] = ""  # an empty row is left out
    saved = official.post(url, data)
    assert saved.status_code == 302
    made = EnteredFigure.objects.get()
    assert (made.council_id, made.value, made.status) == (
        village.pk,
        Decimal(4),
        FigureStatus.DRAFT,
    )
    drafts = official.get(reverse("governance:drafts", args=[index.pk])).content.decode()
    assert reverse("governance:figure", args=[made.pk]) in drafts
    official.post(reverse("governance:publish_figure", args=[made.pk]))
    made.refresh_from_db()
    assert made.is_published


def test_the_entry_table_refuses_a_bad_period_and_is_not_for_the_committee(tree, persons, index):
    url = reverse("governance:enter_figures", args=[index.pk])
    official = client_of(persons["official"])
    bad = official.post(url, {"code": "party-stars", "period": "2025-13"})
    assert bad.status_code == 400 and "2025-Q1" in bad.content.decode()
    wrong_code = official.post(url, {"code": "disclosure-on-time", "period": "2025-01"})
    assert wrong_code.status_code == 400
    assert client_of(persons["committee"]).get(url).status_code == 404
    assert client_of().get(url).status_code == 302  # sign in first


def test_correcting_a_published_figure_makes_a_new_draft_and_keeps_the_old(tree, persons, index):
    official = client_of(persons["official"])
    published = figure(index, tree["village"], persons["official"], value="3", publish=True)
    url = reverse("governance:edit_figure", args=[published.pk])
    page = official.get(url)
    assert page.status_code == 200 and "Correct a published figure" in page.content.decode()
    bad = official.post(url, {"value": "abc", "evidence_url": "", "note": "复核"})
    assert bad.status_code == 400 and "复核" in bad.content.decode()
    good = official.post(url, {"value": "4", "evidence_url": "", "note": "复核"})
    correction = EnteredFigure.objects.get(supersedes=published)
    assert good["Location"] == reverse("governance:figure", args=[correction.pk])
    assert correction.evidence_url == LINK and not correction.is_published
    published.refresh_from_db()
    assert published.value == Decimal(3) and published.is_published
    # Anonymous sees the published one, not the correction waiting for publication.
    html = client_of().get(reverse("governance:figure", args=[published.pk])).content.decode()
    assert reverse("governance:figure", args=[correction.pk]) not in html
    assert client_of(persons["resident"]).get(url).status_code == 404


def test_pages_render_for_officials(tree, persons, index):
    figure(index, tree["village"], persons["official"])
    official = client_of(persons["official"])
    for url in (
        reverse("governance:index", args=[index.pk]),
        reverse("governance:indexes", args=[tree["township"].pk]),
        reverse("governance:index_figures", args=[index.pk]) + f"?period={last_month():%Y-%m}",
        reverse("governance:drafts", args=[index.pk]),
        reverse("governance:enter_figures", args=[index.pk]),
        reverse("governance:version", args=[index.versions.get().pk]),
    ):
        assert official.get(url).status_code == 200, url
    assert client_of().get(reverse("governance:index", args=[999999])).status_code == 404
    assert (
        client_of()
        .get(reverse("governance:index_figures", args=[index.pk]), {"period": "x"})
        .status_code
        == 200
    )


def test_the_demo_builds_the_index_once(tree, persons):
    from governance import demo

    assert demo.build(tree["village"]) >= 5  # the index and four figures
    assert demo.build(tree["village"]) == 0
    index = Index.objects.get(owner=tree["township"])
    assert EnteredFigure.objects.filter(index=index, status=FigureStatus.PUBLISHED).count() == 4
    assert (
        index.versions.get()
        .scores.filter(period_start=datetime.date.today().replace(day=1))
        .exists()
    )
