"""Each metric against hand-counted values on a small world (tests/governance/conftest.py), and
the evidence page that lists what a figure counts."""

import pytest
from django.urls import reverse
from freezegun import freeze_time

from governance import figures
from governance.evidence import evidence_url
from governance.figures import Period, parse_period
from governance.models import MetricValue
from tests.governance.conftest import DEC, NOV, NOW, OCT, D, at, counts, figure


@pytest.fixture
def world(metrics_world):
    for start in (OCT, NOV, DEC):
        figures.recompute(period_kind="month", period_start=start, now=NOW)
    return metrics_world


def test_disclosure_on_time_counts_obligations_due_in_the_month(world):
    # 柳树村: October's finance (due 10 Nov) and Q3 Party affairs (due 14 Nov, published at
    # 23:30 that day in Shanghai) on time; Q3 village affairs only drafted: 2 of 3.
    assert counts(figure(world["village"], "disclosure_on_time")) == (2, 3, D("66.7"))
    assert counts(figure(world["township"], "disclosure_on_time")) == (2, 3, D("66.7"))


def test_disclosure_without_obligations_due_is_no_figure_not_zero(world):
    # 石桥村 keeps the quarterly calendar: nothing falls due in November. A grid discloses nothing.
    assert counts(figure(world["other"], "disclosure_on_time")) == (0, 0, None)
    assert counts(figure(world["grid"], "disclosure_on_time")) == (0, 0, None)


def test_disclosure_counts_an_unmet_obligation_once_its_deadline_passed(world):
    # October: September's finance of 柳树村 and 石桥村's three Q3 kinds, all unpublished.
    assert counts(figure(world["township"], "disclosure_on_time", OCT)) == (0, 4, D("0.0"))
    # December: November's finance was due on 10 December, before the clock (15 December).
    assert counts(figure(world["village"], "disclosure_on_time", DEC)) == (0, 1, D("0.0"))


def test_disclosure_obligation_not_yet_due_is_not_counted(metrics_world):
    figures.recompute(period_kind="month", period_start=DEC, now=at(12, 5))
    assert counts(figure(metrics_world["village"], "disclosure_on_time", DEC)) == (0, 0, None)


def test_questions_on_time(world):
    assert counts(figure(world["village"], "questions_on_time")) == (1, 2, D("50.0"))
    assert counts(figure(world["other"], "questions_on_time")) == (0, 1, D("0.0"))
    assert counts(figure(world["township"], "questions_on_time")) == (1, 3, D("33.3"))


def test_question_due_at_half_past_midnight_shanghai_is_decembers(world):
    # Due 00:30 on 1 December in Shanghai (30 November in UTC): December's, answered in time;
    # the one due on 20 December is neither answered nor past due at the clock: not counted.
    assert counts(figure(world["village"], "questions_on_time", DEC)) == (1, 1, D("100.0"))


def test_sessions_held_and_quorum(world):
    # 柳树村: 2 present + 1 proxy of 5 (quorum); its grid's 2 of 4 (not more than half).
    # 石桥村's assembly: nobody came. A two-committee meeting and an open session do not count.
    assert counts(figure(world["village"], "meetings_held")) == (2, 0, D("2"))
    assert counts(figure(world["village"], "quorum_rate")) == (1, 2, D("50.0"))
    assert counts(figure(world["grid"], "quorum_rate")) == (0, 1, D("0.0"))
    assert counts(figure(world["other"], "quorum_rate")) == (0, 1, D("0.0"))
    assert counts(figure(world["township"], "meetings_held")) == (3, 0, D("3"))
    assert counts(figure(world["township"], "quorum_rate")) == (1, 3, D("33.3"))


def test_a_count_with_nothing_counted_is_zero_not_none(world, tree):
    assert counts(figure(tree["far_village"], "meetings_held")) == (0, 0, D("0"))
    assert counts(figure(tree["far_village"], "projects_finished")) == (0, 0, D("0"))


def test_budget_turnout(world):
    # 柳树村: 2 ballots of 4 verified residents + 1 on the register without an account.
    assert counts(figure(world["village"], "budget_turnout")) == (2, 5, D("40.0"))
    # 石桥村, one vote a household: 1 of 3 households.
    assert counts(figure(world["other"], "budget_turnout")) == (1, 3, D("33.3"))
    assert counts(figure(world["township"], "budget_turnout")) == (3, 8, D("37.5"))


def test_a_vote_still_open_at_the_clock_is_not_counted(world):
    assert counts(figure(world["village"], "budget_turnout", DEC)) == (0, 0, None)


def test_projects_finished_count_their_first_done_update(world):
    assert counts(figure(world["village"], "projects_finished")) == (1, 0, D("1"))
    assert counts(figure(world["township"], "projects_finished")) == (2, 0, D("2"))
    assert figure(world["village"], "projects_finished", OCT).numerator == 1
    # p1's second "done" in December is not a second project finished.
    assert figure(world["village"], "projects_finished", DEC).numerator == 0


def test_project_rating_is_the_mean_to_two_places(world):
    assert counts(figure(world["village"], "project_rating")) == (9, 2, D("4.50"))
    assert counts(figure(world["other"], "project_rating")) == (2, 1, D("2.00"))
    assert counts(figure(world["township"], "project_rating")) == (11, 3, D("3.67"))


def test_topics_answered(world):
    # 柳树村 and its grid: 3 raised in November (the merged one left out), 2 answered.
    assert counts(figure(world["village"], "topics_answered")) == (2, 3, D("66.7"))
    assert counts(figure(world["grid"], "topics_answered")) == (1, 1, D("100.0"))
    # 石桥村's topic raised at 23:30 on 30 November in Shanghai is November's.
    assert counts(figure(world["other"], "topics_answered")) == (1, 1, D("100.0"))
    assert counts(figure(world["township"], "topics_answered")) == (3, 4, D("75.0"))


def test_median_hours_come_from_the_summed_histogram(world):
    # 柳树村's own: 3 h and 288 h (lower median 3); its grid's: 48 h. Together 3, 48, 288:
    # the median is 48, which no median of the two medians gives.
    village = figure(world["village"], "topic_answer_hours")
    assert (village.denominator, village.value) == (3, D("48"))
    assert village.histogram == {"3": 1, "48": 1, "288": 1}
    assert figure(world["township"], "topic_answer_hours").value == D("48")
    assert counts(figure(world["other"], "topic_answer_hours")) == (0, 0, None)
    # 石桥村's topic: raised 23:30 on 30 November, answered 09:00 on 3 December: 57.5 hours,
    # past two days so in whole days: 72.
    assert figure(world["other"], "topic_answer_hours", DEC).value == D("72")


def test_case_figures_come_from_case_figure_rows(world):
    assert counts(figure(world["village"], "case_closure")) == (5, 7, D("71.4"))
    assert counts(figure(world["village"], "case_on_time")) == (3, 5, D("60.0"))
    assert counts(figure(world["village"], "case_satisfaction")) == (12, 3, D("4.00"))
    assert counts(figure(world["grid"], "case_satisfaction")) == (9, 2, D("4.50"))
    assert counts(figure(world["other"], "case_on_time")) == (0, 0, None)
    assert counts(figure(world["township"], "case_closure")) == (5, 8, D("62.5"))


def test_every_council_gets_every_metric(world):
    rows = MetricValue.objects.filter(period_kind="month", period_start=NOV)
    assert rows.values("metric").distinct().count() == len(figures.METRICS)
    row = figure(world["grid"], "case_closure")
    assert (row.council_path, row.council_level) == (world["grid"].path, "grid")


# -- periods ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text", ["2026-13", "2026-Q5", "2026-Q0", "26-11", "1999-01", "2026-1", "abc", "", "2026-Q4x"]
)
def test_bad_periods_are_refused(text):
    assert parse_period(text) is None


def test_periods_parse_and_name_themselves():
    assert parse_period("2026-Q4") == Period("quarter", OCT)
    assert parse_period("2026-11").slug == "2026-11"
    assert Period("quarter", OCT).months == [OCT, NOV, DEC]
    with pytest.raises(ValueError):
        Period("quarter", NOV)  # a quarter starts in January, April, July or October


# -- the evidence page -----------------------------------------------------------------------------


def page(client, council, key, period="2026-11"):
    with freeze_time(NOW):
        return client.get(reverse("governance:evidence", args=[council.pk, key, period]))


def test_evidence_url_names_the_period():
    assert evidence_url(7, "quorum_rate", "quarter", OCT) == (
        "/governance/councils/7/metrics/quorum_rate/2026-Q4/"
    )


def test_evidence_lists_the_records_counted_with_their_outcome(client, world):
    response = page(client, world["village"], "disclosure_on_time")
    html = response.content.decode()
    assert response.status_code == 200
    assert world["finance_record"].get_absolute_url() in html
    assert world["party_record"].get_absolute_url() in html
    assert "Published on time" in html and "Not published by the deadline" in html
    # The stored figure and the recount agree.
    assert response.context["recounted"] == figure(world["village"], "disclosure_on_time").value


def test_evidence_never_shows_an_unpublished_record(client, world):
    html = page(client, world["village"], "disclosure_on_time").content.decode()
    assert world["draft_record"].title not in html
    assert world["draft_record"].get_absolute_url() not in html


def test_evidence_hides_sessions_that_are_not_public_but_counts_them(client, world):
    response = page(client, world["village"], "quorum_rate")
    html = response.content.decode()
    assert world["session_quorate"].title in html
    assert world["session_private"].title not in html
    assert world["session_private"].get_absolute_url() not in html
    assert response.context["evidence"].hidden == 1
    assert response.context["recounted"] == D("50.0")


def test_evidence_hides_topics_of_members_only_halls(client, world):
    response = page(client, world["village"], "topic_answer_hours")
    html = response.content.decode()
    assert world["topic_answered"].title in html
    assert world["topic_private"].title not in html
    assert response.context["recounted"] == D("48")


def test_evidence_of_questions_links_to_their_record(client, world):
    html = page(client, world["village"], "questions_on_time").content.decode()
    assert world["finance_record"].get_absolute_url() + "#questions" in html
    assert "问题二：迟答" in html and "Answered late" in html
    assert "问题四：十二月的" not in html  # December's
    # The township lists its villages' figures, each linking down to the village's page.
    html = page(client, world["township"], "questions_on_time").content.decode()
    assert evidence_url(world["village"], "questions_on_time", "month", NOV) in html
    assert world["finance_record"].get_absolute_url() not in html


def test_evidence_of_cases_is_anonymous_counts_and_a_link(client, world):
    response = page(client, world["village"], "case_closure")
    html = response.content.decode()
    assert reverse("cases:figures", args=[world["village"].pk]) in html
    assert response.context["recounted"] == D("71.4")
    assert "/cases/cases/" not in html  # no case is linked


def test_evidence_of_a_quarter(client, world):
    figures.recompute(period_kind="quarter", period_start=OCT, now=NOW)
    response = page(client, world["township"], "projects_finished", "2026-Q4")
    assert response.status_code == 200
    assert response.context["recounted"] == D("3")  # 柳树村's 2 and 石桥村's 1, added up
    response = page(client, world["village"], "projects_finished", "2026-Q4")
    assert response.context["recounted"] == D("2")
    assert world["p1"].get_absolute_url() in response.content.decode()


def test_evidence_without_a_stored_figure_still_lists(client, metrics_world):
    response = page(client, metrics_world["village"], "budget_turnout")
    assert response.status_code == 200
    assert response.context["stored"] is None
    assert metrics_world["cycle"].title in response.content.decode()


@pytest.mark.parametrize(
    "key, period",
    [
        ("no_such_metric", "2026-11"),
        ("quorum_rate", "2026-13"),
        ("quorum_rate", "2026-Q5"),
        ("quorum_rate", "november"),
        ("quorum_rate", "9999-01"),
        ("quorum_rate", "2026-11-01"),
    ],
)
def test_evidence_of_an_unknown_metric_or_period_is_404(client, tree, key, period):
    response = client.get(f"/governance/councils/{tree['village'].pk}/metrics/{key}/{period}/")
    assert response.status_code == 404


@pytest.mark.parametrize("council_id", [0, 999999, 2**63])
def test_evidence_of_an_unknown_council_is_404(client, db, council_id):
    response = client.get(f"/governance/councils/{council_id}/metrics/quorum_rate/2026-11/")
    assert response.status_code == 404


def test_evidence_of_an_unpublished_council_is_404(client, tree):
    tree["grid"].unpublish()
    url = reverse("governance:evidence", args=[tree["grid"].pk, "quorum_rate", "2026-11"])
    assert client.get(url).status_code == 404


@pytest.mark.parametrize("key", sorted(figures.METRICS))
def test_evidence_pages_read_a_fixed_number_of_queries(
    client, world, key, django_assert_max_num_queries
):
    # Whatever the number of items: no query per listed record, session or topic.
    with django_assert_max_num_queries(12):
        assert page(client, world["township"], key).status_code == 200
