"""Stored results: publication stores an append-only snapshot, and everything after it reads the
snapshot (results page, live frame, proposal page, progress updates, disclosure's funded projects,
the demo); nothing tallies a published cycle again."""

from decimal import Decimal
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse

from budgets import selectors, services
from budgets.consumers import _read_frame
from budgets.models import (
    ProgressStatus,
    ResultOverride,
    ResultSnapshot,
    SnapshotReason,
    TallyRule,
)
from councils.models import Role
from disclosure.selectors import funded_project_ids, funded_projects
from tests.budgets.factories import add_proposal, make_cycle, set_phase
from tests.councils.factories import member

pytestmark = pytest.mark.django_db


@pytest.fixture
def committee(tree):
    return member(tree["village"], Role.COMMITTEE)


@pytest.fixture
def voted(tree):
    """A and B most approved; equal shares with completion funds A and C (test_results.py)."""
    cycle = make_cycle(tree["village"], phase="vote", total_amount=Decimal("100"), max_choices=3)
    cycle.rule = TallyRule.MES_ADD1
    cycle.complete_greedy = True
    cycle.save()
    a, b, c = (add_proposal(cycle, t, "50") for t in ("A", "B", "C"))
    for _ in range(6):
        services.cast_ballot(voter=member(tree["village"]), cycle=cycle, choices={a.pk: 1, b.pk: 1})
    for _ in range(4):
        services.cast_ballot(voter=member(tree["village"]), cycle=cycle, choices={c.pk: 1})
    set_phase(cycle, "results")
    return cycle, (a, b, c)


@pytest.fixture
def published(voted, committee):
    cycle, projects = voted
    services.publish_results(by=committee, cycle=cycle)
    cycle.refresh_from_db()
    return cycle, projects


def no_tally():
    """Every way a tally could run, made to fail loudly."""
    boom = AssertionError("the tally ran for a published cycle")
    return (
        mock.patch("budgets.services.tally", side_effect=boom),
        mock.patch("budgets.services.compute_results", side_effect=boom),
    )


def test_publication_stores_the_selected_projects_rule_and_ballot_count(published, committee):
    cycle, (a, b, c) = published
    [snapshot] = ResultSnapshot.objects.filter(cycle=cycle)
    content = snapshot.content
    assert (snapshot.version, snapshot.reason, snapshot.by) == (
        1,
        SnapshotReason.PUBLISHED,
        committee,
    )
    assert (content["rule"], content["satisfaction"], content["complete_greedy"]) == (
        cycle.rule,
        cycle.satisfaction,
        True,
    )
    assert content["ballot_count"] == 10 and content["overrides"] == []
    [result] = content["results"]
    assert (result["sub_budget"], result["budget"], result["ballots"]) == (None, "100.00", 10)
    rows = {p["title"]: p for p in result["projects"]}
    assert {t for t, p in rows.items() if p["funded"]} == {"A", "C"}
    assert rows["A"] == rows["A"] | {"id": a.pk, "cost": "50.00", "votes": 6, "funded": True}
    assert rows["A"]["explanation"]["stage"] == "mes" and "reason" in rows["B"]["explanation"]
    assert snapshot.verify() and snapshot.previous_digest == ""


def test_publishing_twice_is_refused(published, committee):
    cycle, _ = published
    with pytest.raises(ValidationError, match="already published"):
        services.publish_results(by=committee, cycle=cycle)
    assert ResultSnapshot.objects.filter(cycle=cycle).count() == 1


def test_a_snapshot_cannot_be_changed_or_deleted(published):
    cycle, _ = published
    snapshot = ResultSnapshot.objects.get(cycle=cycle)
    snapshot.content = {"results": []}
    with pytest.raises(ValidationError, match="append-only"):
        snapshot.save()
    with pytest.raises(ValidationError, match="append-only"):
        snapshot.delete()
    assert ResultSnapshot.objects.get(cycle=cycle).verify()


def test_the_database_refuses_to_update_a_snapshot(published):
    cycle, _ = published
    with pytest.raises((IntegrityError, Exception)), transaction.atomic():
        ResultSnapshot.objects.filter(cycle=cycle).update(content={"results": []})
    assert ResultSnapshot.objects.get(cycle=cycle).verify()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row DELETE trigger on PostgreSQL")
def test_postgresql_refuses_to_delete_a_snapshot(published):
    cycle, _ = published
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        ResultSnapshot.objects.filter(cycle=cycle).delete()


def test_an_edited_snapshot_fails_its_digest(published):
    cycle, _ = published
    snapshot = ResultSnapshot.objects.get(cycle=cycle)
    snapshot.content["results"][0]["projects"][0]["votes"] += 1
    assert not snapshot.verify()


def test_nothing_tallies_a_published_cycle(client, published, committee, tree):
    cycle, (a, b, c) = published
    client.force_login(committee)
    patches = no_tally()
    with patches[0], patches[1]:
        pages = [
            reverse("budgets:results", args=[cycle.pk]),
            reverse("budgets:cycle", args=[cycle.pk]),
            reverse("budgets:ballots", args=[cycle.pk]),
            reverse("budgets:ballots_pb", args=[cycle.pk]),
            reverse("budgets:check_receipt", args=[cycle.pk]),
            reverse("budgets:roll", args=[cycle.pk]),
            tree["village"].url,
            *(p.get_absolute_url() for p in (a, b, c)),
        ]
        for url in pages:
            assert client.get(url).status_code == 200, url
        html = client.get(reverse("budgets:results", args=[cycle.pk])).content.decode()
        assert "Published by the committee" in html
        frame = _read_frame(cycle.pk)
        assert [f["title"] for f in frame["funded"]] == ["A", "C"]
        assert set(funded_projects(tree["village"])) == {a.pk, c.pk}
        assert funded_project_ids(tree["village"]) == {a.pk, c.pk}
        services.post_progress(
            by=committee, proposal=a, status=ProgressStatus.IN_PROGRESS, note="开工"
        )
        with pytest.raises(ValidationError, match="Only funded projects"):
            services.post_progress(
                by=committee, proposal=b, status=ProgressStatus.IN_PROGRESS, note="开工"
            )
        services.override_result(
            by=committee,
            proposal=b,
            funded=True,
            reason="村民代表会议决定增补",
            confirm_over_budget=True,
        )
        assert [p.title for p in selectors.funded_proposals(cycle)] == ["A", "B", "C"]


def test_the_pages_show_the_stored_result_not_a_recount(client, published):
    """Tamper with the ballots after publication: the published result does not move."""
    cycle, (a, b, c) = published
    from budgets.models import BallotChoice

    BallotChoice.objects.filter(proposal=c).delete()
    assert {p.pk for p in selectors.funded_proposals(cycle)} == {a.pk, c.pk}
    html = client.get(reverse("budgets:results", args=[cycle.pk])).content.decode()
    assert html.count("✓") == 2


def test_an_override_after_publication_appends_a_version(published, committee):
    cycle, (a, b, c) = published
    first = ResultSnapshot.objects.get(cycle=cycle)
    services.override_result(
        by=committee, proposal=c, funded=False, reason="选址与规划冲突，暂缓实施"
    )
    latest = selectors.latest_snapshot(cycle)
    assert (latest.version, latest.reason, latest.previous_digest) == (
        2,
        SnapshotReason.OVERRIDE,
        first.digest,
    )
    assert latest.verify() and ResultSnapshot.objects.get(pk=first.pk).content == first.content
    assert [o["proposal"] for o in latest.content["overrides"]] == [c.pk]
    assert latest.content["overrides"][0]["reason"] == "选址与规划冲突，暂缓实施"
    assert [p.pk for p in selectors.funded_proposals(cycle)] == [a.pk]
    [result] = selectors.results_of(cycle)
    assert [r.overridden.reason for r in result.projects if r.overridden] == [
        "选址与规划冲突，暂缓实施"
    ]


def test_an_override_past_the_budget_after_publication_needs_confirmation(published, committee):
    cycle, (a, b, c) = published
    with pytest.raises(ValidationError, match="over the budget"):
        services.override_result(
            by=committee, proposal=b, funded=True, reason="村民代表会议决定增补"
        )
    assert ResultSnapshot.objects.filter(cycle=cycle).count() == 1
    assert not ResultOverride.objects.filter(proposal=b).exists()


def test_nothing_is_funded_before_publication(voted):
    cycle, _ = voted
    assert selectors.funded_proposals(cycle) == []
    assert not ResultSnapshot.objects.filter(cycle=cycle).exists()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="PostgreSQL refuses the delete")
def test_results_published_before_snapshots_are_stored_once(voted, committee):
    cycle, (a, b, c) = voted
    services.publish_results(by=committee, cycle=cycle)
    # What a database of before this change looks like: published, nothing stored.
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM budgets_resultsnapshot")
    cycle.refresh_from_db()
    assert {p.pk for p in selectors.funded_proposals(cycle)} == {a.pk, c.pk}
    [snapshot] = ResultSnapshot.objects.filter(cycle=cycle)
    assert snapshot.reason == SnapshotReason.BACKFILL
    with no_tally()[0]:
        assert {p.pk for p in selectors.funded_proposals(cycle)} == {a.pk, c.pk}


def test_funded_proposals_is_the_only_source():
    """Nobody outside budgets/selectors.py decides "funded" from a tally or the override table."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    offenders = []
    for app in ("budgets", "disclosure", "home", "meetings", "deliberation"):
        for path in (root / app).rglob("*.py"):
            if "migrations" in path.parts or "tally" in path.parts:
                continue
            text = path.read_text(encoding="utf-8")
            if path.name not in ("services.py", "selectors.py") and "compute_results(" in text:
                offenders.append(str(path.relative_to(root)))
            if "_funded_ids" in text:
                offenders.append(str(path.relative_to(root)))
    assert offenders == []
