"""The index as data: the Rui'an template, versions, scoring against hand-computed values, the
constant query count of compute_scores, and the services' refusals."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from councils.models import Level
from governance import index as scoring
from governance import services
from governance.metrics import METRICS
from governance.models import (
    EnteredFigure,
    FigureStatus,
    IndexScore,
    IndexVersion,
    Indicator,
    IndicatorSource,
    MetricValue,
    PeriodKind,
    VersionStatus,
)
from governance.ruian import RUIAN
from tests.councils.factories import make_council
from tests.governance.index_objects import LINK, figure, last_month, pdf_bytes, people

ID_NUMBER = "110105194912310021"
MONTH = datetime.date(2025, 3, 1)


@pytest.fixture
def persons(tree):
    return people(tree)


def metric(council, key, value, *, period_start=MONTH, kind=PeriodKind.MONTH):
    return MetricValue.objects.create(
        council=council,
        council_path=council.path,
        council_level=council.level,
        period_kind=kind,
        period_start=period_start,
        metric=key,
        numerator=0,
        denominator=1,
        value=None if value is None else Decimal(value),
    )


def small_index(tree, official, thresholds=("60", "75", "80")):
    """A: disclosure on time (50 -> 100, weight 2) and median hours to answer (48 -> 0, lower
    is better, weight 1), dimension weight 60; B: an entered star rating (1 -> 5), weight 40."""
    index = services.create_index(owner=tree["township"], name="小指数", template=None, by=official)
    draft = index.versions.get()
    a = services.add_dimension(version=draft, code="a", name="治理", weight="60", by=official)
    b = services.add_dimension(version=draft, code="b", name="组织", weight="40", by=official)
    services.add_indicator(
        dimension=a,
        code="open",
        name="公开",
        weight="2",
        source=IndicatorSource.METRIC,
        metric="disclosure_on_time",
        floor="50",
        target="100",
        by=official,
    )
    services.add_indicator(
        dimension=a,
        code="hours",
        name="答复时长",
        weight="1",
        source=IndicatorSource.METRIC,
        metric="topic_answer_hours",
        floor="48",
        target="0",
        by=official,
    )
    services.add_indicator(
        dimension=b,
        code="stars",
        name="星级",
        weight="1",
        source=IndicatorSource.ENTERED,
        floor="1",
        target="5",
        by=official,
    )
    services.change_version(version=draft, star_thresholds=thresholds, note="首版", by=official)
    services.publish_version(version=draft, by=official)
    return index, draft


def scores_by_council(version, period_start=MONTH):
    return {
        s.council_id: s
        for s in IndexScore.objects.filter(
            version=version, period_kind=PeriodKind.MONTH, period_start=period_start
        )
    }


# -- the template ----------------------------------------------------------------------------------


def test_the_ruian_template_has_five_dimensions_eleven_indicators_and_weights_of_100():
    assert [d.name for d in RUIAN.dimensions] == [
        "共富发展",
        "治理有序",
        "生活宜居",
        "党群连心",
        "组织坚实",
    ]
    indicators = [i for d in RUIAN.dimensions for i in d.indicators]
    assert len(indicators) == 11
    assert sum(d.weight for d in RUIAN.dimensions) == 100
    for dimension in RUIAN.dimensions:
        assert sum(i.weight for i in dimension.indicators) == dimension.weight
    assert all(i.metric in METRICS for i in indicators if i.metric)
    assert len({i.code for i in indicators}) == 11
    assert all(i.floor != i.target for i in indicators)
    assert list(RUIAN.star_thresholds) == sorted(RUIAN.star_thresholds)


def test_an_index_from_the_template_is_published_as_version_1(tree, persons):
    index = services.create_index(
        owner=tree["township"], name="强基善治指数", by=persons["official"]
    )
    version = index.versions.get()
    assert (version.number, version.status) == (1, VersionStatus.PUBLISHED)
    assert version.dimensions.count() == 5
    assert Indicator.objects.filter(dimension__version=version).count() == 11
    assert version.star_thresholds == ["60", "70", "78", "85", "90"]


# -- versions ------------------------------------------------------------------------------------


def test_publishing_v2_retires_v1_and_keeps_v1_scores_as_computed(tree, persons):
    official = persons["official"]
    index, v1 = small_index(tree, official)
    metric(tree["village"], "disclosure_on_time", "75")
    scoring.compute_scores(version=v1, period_kind=PeriodKind.MONTH, period_start=MONTH)
    before = {
        pk: (s.score, s.stars, s.breakdown, s.computed_at)
        for pk, s in scores_by_council(v1).items()
    }
    v2 = services.start_version(index=index, by=official)
    assert v2.number == 2 and v2.dimensions.count() == 2
    stars = Indicator.objects.get(dimension__version=v2, code="open")
    services.change_indicator(
        indicator=stars, name="公开", weight="2", floor="0", target="100", by=official
    )
    services.publish_version(version=v2, by=official)
    v1.refresh_from_db()
    assert v1.status == VersionStatus.RETIRED
    assert IndexVersion.objects.get(pk=v2.pk).status == VersionStatus.PUBLISHED
    assert scoring.compute_scores(version=v2, period_kind=PeriodKind.MONTH, period_start=MONTH) == 2
    scoring.compute_scores(version=v2, period_kind=PeriodKind.MONTH, period_start=MONTH)
    after = {
        pk: (s.score, s.stars, s.breakdown, s.computed_at)
        for pk, s in scores_by_council(v1).items()
    }
    assert after == before
    assert scores_by_council(v2)[tree["village"].pk].score == Decimal("75.00")
    assert scores_by_council(v1)[tree["village"].pk].score == Decimal("50.00")


def test_a_published_version_refuses_every_change(tree, persons):
    official = persons["official"]
    index, v1 = small_index(tree, official)
    dimension = v1.dimensions.get(code="a")
    indicator = Indicator.objects.get(dimension=dimension, code="open")
    attempts = [
        lambda: services.change_version(version=v1, star_thresholds=["50"], note="", by=official),
        lambda: services.add_dimension(version=v1, code="c", name="新", weight="1", by=official),
        lambda: services.change_dimension(
            dimension=dimension, name="新", weight="1", order=0, by=official
        ),
        lambda: services.remove_dimension(dimension=dimension, by=official),
        lambda: services.remove_indicator(indicator=indicator, by=official),
        lambda: services.publish_version(version=v1, by=official),
    ]
    for attempt in attempts:
        with pytest.raises(ValidationError, match="published and can no longer change"):
            attempt()
    # At the model level too: a save or a delete outside the services.
    indicator.weight = Decimal(9)
    with pytest.raises(ValidationError):
        indicator.save()
    with pytest.raises(ValidationError):
        dimension.delete()
    assert Indicator.objects.get(pk=indicator.pk).weight == Decimal(2)


def test_start_version_returns_the_existing_draft(tree, persons):
    official = persons["official"]
    index, _ = small_index(tree, official)
    first = services.start_version(index=index, by=official)
    assert services.start_version(index=index, by=official).pk == first.pk
    assert index.versions.count() == 2


def test_entered_figures_survive_a_new_version_by_code(tree, persons):
    official = persons["official"]
    index, v1 = small_index(tree, official)
    figure(
        index, tree["village"], official, code="stars", value="5", period_start=MONTH, publish=True
    )
    v2 = services.start_version(index=index, by=official)
    services.publish_version(version=v2, by=official)
    scoring.compute_scores(version=v2, period_kind=PeriodKind.MONTH, period_start=MONTH)
    breakdown = scores_by_council(v2)[tree["village"].pk].breakdown
    assert breakdown["b"]["indicators"]["stars"] == {"value": "5.00", "score": "100.00"}


# -- scoring ------------------------------------------------------------------------------------


def test_scores_match_hand_computed_values(tree, persons):
    official = persons["official"]
    index, version = small_index(tree, official)
    village, other = tree["village"], tree["other_village"]
    metric(village, "disclosure_on_time", "75")  # (75-50)/50 = 50 points
    metric(village, "topic_answer_hours", "12")  # (12-48)/(0-48) = 75 points (lower is better)
    figure(index, village, official, code="stars", value="5", period_start=MONTH, publish=True)
    metric(other, "disclosure_on_time", "30")  # below the floor: 0, not negative
    metric(other, "topic_answer_hours", "60")  # worse than the floor: 0
    assert (
        scoring.compute_scores(version=version, period_kind=PeriodKind.MONTH, period_start=MONTH)
        == 2
    )
    scores = scores_by_council(version)
    # A = (50x2 + 75x1)/3 = 58.33; B = 100; total = (58.333x60 + 100x40)/100 = 75.00
    mine = scores[village.pk]
    assert mine.score == Decimal("75.00")
    assert mine.breakdown["a"]["score"] == "58.33"
    assert mine.breakdown["a"]["indicators"]["hours"] == {"value": "12.00", "score": "75.00"}
    assert mine.stars == 2  # exactly 75: the second threshold is reached
    theirs = scores[other.pk]
    assert theirs.breakdown["a"]["indicators"]["open"]["score"] == "0.00"
    assert theirs.breakdown["a"]["indicators"]["hours"]["score"] == "0.00"
    # No star figure: B is left out, its weight goes to A (0 points).
    assert theirs.breakdown["b"] == {
        "score": None,
        "indicators": {"stars": {"value": None, "score": None}},
    }
    assert theirs.score == Decimal("0.00") and theirs.stars == 0


def test_above_the_target_is_clipped_to_100(tree, persons):
    official = persons["official"]
    index, version = small_index(tree, official)
    metric(tree["village"], "topic_answer_hours", "-5")  # better than the target: 100, not more
    scoring.compute_scores(version=version, period_kind=PeriodKind.MONTH, period_start=MONTH)
    score = scores_by_council(version)[tree["village"].pk]
    assert score.breakdown["a"]["indicators"]["hours"]["score"] == "100.00"
    assert score.score == Decimal("100.00") and score.stars == 3


def test_missing_values_are_left_out_and_a_village_without_any_has_no_score(tree, persons):
    official = persons["official"]
    index, version = small_index(tree, official)
    metric(tree["village"], "disclosure_on_time", "90")  # 80 points; hours: no data
    metric(tree["village"], "topic_answer_hours", None)  # a row with no value is no data too
    scoring.compute_scores(version=version, period_kind=PeriodKind.MONTH, period_start=MONTH)
    scores = scores_by_council(version)
    mine = scores[tree["village"].pk]
    assert mine.breakdown["a"]["score"] == "80.00"
    assert mine.breakdown["a"]["indicators"]["hours"] == {"value": None, "score": None}
    assert mine.score == Decimal("80.00") and mine.stars == 3
    nothing = scores[tree["other_village"].pk]
    assert nothing.score is None and nothing.stars == 0


@pytest.mark.parametrize(
    ("score", "stars"),
    [(None, 0), ("59.99", 0), ("60", 1), ("74.99", 1), ("75", 2), ("80", 3), ("100", 3)],
)
def test_stars_at_exact_thresholds(score, stars):
    assert scoring.stars_for(None if score is None else Decimal(score), ["60", "75", "80"]) == stars


def test_only_villages_of_the_owner_are_scored(tree, persons):
    official = persons["official"]
    _, version = small_index(tree, official)
    metric(tree["far_village"], "disclosure_on_time", "100")
    scoring.compute_scores(version=version, period_kind=PeriodKind.MONTH, period_start=MONTH)
    scored = set(scores_by_council(version))
    assert scored == {tree["village"].pk, tree["other_village"].pk}
    assert tree["grid"].pk not in scored and tree["far_village"].pk not in scored


def test_the_newest_published_figure_counts_and_drafts_do_not(tree, persons):
    official = persons["official"]
    index, version = small_index(tree, official)
    old = figure(
        index, tree["village"], official, code="stars", value="1", period_start=MONTH, publish=True
    )
    newer = services.correct_figure(published=old, value="3", evidence_url=LINK, by=official)
    scoring.compute_scores(version=version, period_kind=PeriodKind.MONTH, period_start=MONTH)
    assert scores_by_council(version)[tree["village"].pk].breakdown["b"]["score"] == "0.00"
    services.publish_figure(figure=newer, by=official)
    scoring.compute_scores(version=version, period_kind=PeriodKind.MONTH, period_start=MONTH)
    assert scores_by_council(version)[tree["village"].pk].breakdown["b"]["score"] == "50.00"
    assert EnteredFigure.objects.get(pk=old.pk).value == Decimal(1)  # never edited


def test_a_quarter_figure_counts_for_its_months_without_their_own(tree, persons):
    official = persons["official"]
    index, version = small_index(tree, official)
    figure(
        index,
        tree["village"],
        official,
        code="stars",
        value="5",
        period_kind=PeriodKind.QUARTER,
        period_start=datetime.date(2025, 1, 1),
        publish=True,
    )
    scoring.compute_scores(version=version, period_kind=PeriodKind.MONTH, period_start=MONTH)
    assert scores_by_council(version)[tree["village"].pk].breakdown["b"]["score"] == "100.00"


def test_compute_scores_runs_a_constant_number_of_queries(tree, persons):
    official = persons["official"]
    index, version = small_index(tree, official)

    def count() -> int:
        # Each count replaces scores written before (a first run has none to delete).
        scoring.compute_scores(version=version, period_kind=PeriodKind.MONTH, period_start=MONTH)
        with CaptureQueriesContext(connection) as queries:
            scoring.compute_scores(
                version=version, period_kind=PeriodKind.MONTH, period_start=MONTH
            )
        return len(queries)

    for village in (tree["village"], tree["other_village"]):
        metric(village, "disclosure_on_time", "80")
        figure(index, village, official, code="stars", value="3", period_start=MONTH, publish=True)
    two = count()
    for n in range(4):
        village = make_council(tree["township"], level=Level.VILLAGE, title=f"新村{n}")
        metric(village, "disclosure_on_time", "80")
        figure(index, village, official, code="stars", value="3", period_start=MONTH, publish=True)
    six = count()
    assert IndexScore.objects.filter(version=version).count() == 6
    assert six == two


def test_the_sweep_starts_a_job_only_when_something_changed(
    tree, persons, django_capture_on_commit_callbacks
):
    from core.models import TaskRun

    official = persons["official"]
    _, version = small_index(tree, official)
    with django_capture_on_commit_callbacks(execute=True):
        assert scoring.sweep() == {"index_scores_started": 1}
    run = TaskRun.objects.filter(work=scoring.COMPUTE_STALE).latest("pk")
    assert run.is_finished, run.status
    this_month = scoring.period_start_of(PeriodKind.MONTH, timezone.localdate())
    assert IndexScore.objects.filter(version=version, period_start=this_month).count() == 2
    with django_capture_on_commit_callbacks(execute=True):
        assert scoring.sweep() == {"index_scores_started": 0}
    metric(tree["village"], "disclosure_on_time", "90", period_start=this_month)
    with django_capture_on_commit_callbacks(execute=True):
        assert scoring.sweep() == {"index_scores_started": 1}


# -- services' refusals --------------------------------------------------------------------------


def test_create_index_refusals(tree, persons):
    official = persons["official"]
    with pytest.raises(ValidationError, match="township, a district or a city"):
        services.create_index(owner=tree["village"], name="x", by=persons["village_official"])
    for who in ("committee", "resident", "other_official", "village_official", "supervisor"):
        with pytest.raises(PermissionDenied, match="Only officials"):
            services.create_index(owner=tree["township"], name="x", by=persons[who])
    with pytest.raises(ValidationError, match="no such template"):
        services.create_index(owner=tree["township"], name="x", template="nowhere", by=official)
    services.create_index(owner=tree["township"], name="x", by=official)
    with pytest.raises(ValidationError, match="already has an index of that name"):
        services.create_index(owner=tree["township"], name="x", by=official)


def test_editing_a_draft_refuses_bad_input(tree, persons):
    official = persons["official"]
    index = services.create_index(owner=tree["township"], name="空", template=None, by=official)
    draft = index.versions.get()
    with pytest.raises(ValidationError, match="Add at least one indicator"):
        services.publish_version(version=draft, by=official)
    dimension = services.add_dimension(
        version=draft, code="a", name="维度", weight="10", by=official
    )
    cases = [
        ({"code": "Bad Code!"}, "A code is"),
        ({"weight": "0"}, "more than 0"),
        ({"weight": "abc"}, "must be a number"),
        ({"name": " "}, "Give it a name"),
        ({"metric": "no_such_metric"}, "Choose one of Yishi"),
        ({"source": "guess"}, "where the indicator"),
        ({"floor": "5", "target": "5"}, "must differ"),
    ]
    for change, message in cases:
        fields = {
            "code": "ok",
            "name": "指标",
            "weight": "1",
            "source": IndicatorSource.METRIC,
            "metric": "case_closure",
            "floor": "0",
            "target": "100",
            **change,
        }
        with pytest.raises(ValidationError, match=message):
            services.add_indicator(dimension=dimension, by=official, **fields)
    with pytest.raises(ValidationError, match="no indicator"):
        services.publish_version(version=draft, by=official)
    services.add_indicator(
        dimension=dimension,
        code="ok",
        name="指标",
        weight="1",
        source="entered",
        floor="0",
        target="1",
        by=official,
    )
    with pytest.raises(ValidationError, match="already has an indicator with that code"):
        services.add_indicator(
            dimension=dimension,
            code="ok",
            name="指标",
            weight="1",
            source="entered",
            floor="0",
            target="1",
            by=official,
        )
    for thresholds, message in [
        (["70", "60"], "must go up"),
        (["60", "60"], "must go up"),
        (["101"], "from 0 to 100"),
        (["-1"], "from 0 to 100"),
        ([], "one to five"),
        (["1", "2", "3", "4", "5", "6"], "one to five"),
        (["x"], "from 0 to 100"),
    ]:
        with pytest.raises(ValidationError, match=message):
            services.change_version(version=draft, star_thresholds=thresholds, note="", by=official)
    for who in ("committee", "other_official", "village_official"):
        with pytest.raises(PermissionDenied):
            services.add_dimension(version=draft, code="b", name="x", weight="1", by=persons[who])
        with pytest.raises(PermissionDenied):
            services.publish_version(version=draft, by=persons[who])
    services.publish_version(version=draft, by=official)
    assert IndexVersion.objects.get(pk=draft.pk).status == VersionStatus.PUBLISHED


def test_enter_figure_refusals(tree, persons, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "private": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    official = persons["official"]
    index = services.create_index(owner=tree["township"], name="强基善治指数", by=official)
    village = tree["village"]

    def enter(**changes):
        fields = {
            "index": index,
            "code": "party-stars",
            "council": village,
            "period_kind": PeriodKind.MONTH,
            "period_start": last_month(),
            "value": "4",
            "evidence_url": LINK,
            "note": "",
            "by": official,
            **changes,
        }
        return services.enter_figure(**fields)

    refused = [
        ({"evidence_url": ""}, "Add the evidence"),
        ({"evidence_url": "javascript:alert(1)"}, "http:// or https://"),
        (
            {"council": tree["far_village"], "by": persons["district_official"]},
            "not under the township",
        ),
        ({"council": tree["grid"]}, "villages and communities"),
        ({"council": tree["township"]}, "villages and communities"),
        ({"code": "disclosure-on-time"}, "entered by hand"),
        ({"code": "nothing"}, "entered by hand"),
        ({"note": f"村支书身份证 {ID_NUMBER}"}, "ID card number"),
        ({"note": "联系 13812345678"}, "phone number"),
        ({"period_start": timezone.localdate() + datetime.timedelta(days=40)}, "not started"),
        ({"period_kind": "year"}, "month or a quarter"),
        ({"value": "NaN"}, "not a usable number"),
        ({"value": "十"}, "must be a number"),
        (
            {"evidence_url": "", "evidence_file": SimpleUploadedFile("a.pdf", b"MZ not a pdf")},
            "not really a PDF",
        ),
        (
            {"evidence_url": "", "evidence_file": SimpleUploadedFile("a.exe", b"MZ")},
            "PDF, a JPG or a PNG",
        ),
    ]
    for changes, message in refused:
        with pytest.raises(ValidationError, match=message):
            enter(**changes)
    for who in (
        "committee",
        "resident",
        "other_official",
        "village_official",
        "supervisor",
        "grid_worker",
    ):
        with pytest.raises(PermissionDenied, match="Only officials above"):
            enter(by=persons[who])
    assert not EnteredFigure.objects.exists()
    made = enter(evidence_url="", evidence_file=SimpleUploadedFile("证明.pdf", pdf_bytes()))
    assert made.status == FigureStatus.DRAFT and made.evidence_file.name.endswith(".pdf")
    assert "证明" not in made.evidence_file.name
    assert made.period_start == last_month()
    # A district official enters for a village of its townships too.
    assert enter(by=persons["district_official"]).status == FigureStatus.DRAFT


def test_publish_change_and_correct_refusals(tree, persons):
    official = persons["official"]
    index = services.create_index(owner=tree["township"], name="强基善治指数", by=official)
    draft = figure(index, tree["village"], official)
    with pytest.raises(ValidationError, match="draft: change it"):
        services.correct_figure(published=draft, value="5", by=official)
    for who in ("committee", "resident", "other_official", "village_official"):
        with pytest.raises(PermissionDenied, match="Only officials of the township"):
            services.publish_figure(figure=draft, by=persons[who])
    published = services.publish_figure(figure=draft, by=official)
    with pytest.raises(ValidationError, match="published already"):
        services.publish_figure(figure=published, by=official)
    with pytest.raises(ValidationError, match="never changes"):
        services.change_figure(figure=published, value="5", by=official)
    correction = services.correct_figure(published=published, value="5", by=official)
    assert correction.supersedes_id == published.pk and correction.evidence_url == LINK
    with pytest.raises(ValidationError, match="has a correction already"):
        services.correct_figure(published=published, value="2", by=official)
    with pytest.raises(PermissionDenied):
        services.correct_figure(published=published, value="2", by=persons["committee"])
    changed = services.change_figure(figure=correction, value="4.5", note="复核后", by=official)
    assert changed.value == Decimal("4.50")
    with pytest.raises(ValidationError, match="ID card"):
        services.change_figure(figure=correction, value="4", note=ID_NUMBER, by=official)
