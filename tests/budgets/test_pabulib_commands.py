"""`manage.py tally` and `manage.py import_pabulib` on real elections: a file committed under
tests/budgets/tally/pabulib/, and Wieliczka from the full set (../shared/pabulib; the test skips
without it, and fails when CI is set)."""

import io

import pytest
from django.core.management import CommandError, call_command

from budgets import services
from budgets.models import Ballot, BudgetCycle, Proposal
from budgets.tally.pabulib import read_pabulib
from budgets.tally.rules import tally
from tests.budgets.tally.helpers import bundled_pabulib, need_shared_pabulib

SMALL = bundled_pabulib("Poland_Gdynia_2023_Karwiny__small.pb")


def run_tally(*args):
    out = io.StringIO()
    call_command("tally", *map(str, args), stdout=out)
    return out.getvalue().split()


def test_tally_command_prints_the_selection_sorted_as_strings():
    election = read_pabulib(SMALL)
    expected = tally(election.instance, election.ballots, rule="greedy").selected
    printed = run_tally(SMALL, "--rule", "greedy")
    assert printed == sorted(expected) and printed


def test_tally_command_reproduces_wieliczkas_official_result():
    wieliczka = need_shared_pabulib("Poland_Wieliczka_2023_Green_Budget.pb")
    election = read_pabulib(wieliczka)
    official = sorted(
        pid for pid, p in election.instance.projects.items() if p.extra.get("selected") == "1"
    )
    assert run_tally(wieliczka, "--rule", "mes-add1-full") == official


def test_tally_command_json_and_bad_file(tmp_path):
    out = io.StringIO()
    call_command("tally", str(SMALL), "--rule", "mes", "--json", stdout=out)
    assert '"selected"' in out.getvalue() and '"unfunded"' in out.getvalue()
    broken = tmp_path / "broken.pb"
    broken.write_text("META\nkey;value\nnum_projects;x\n", encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        call_command("tally", str(broken), stderr=io.StringIO())
    assert exit_info.value.code == 2


@pytest.mark.django_db
def test_import_pabulib_loads_a_closed_cycle_that_tallies_the_same(tree, client):
    call_command(
        "import_pabulib", str(SMALL), "--council", str(tree["village"].pk), stdout=io.StringIO()
    )
    election = read_pabulib(SMALL)
    cycle = BudgetCycle.objects.get()
    assert Proposal.objects.count() == len(election.instance.projects)
    assert Ballot.objects.count() == len(election.ballots)
    assert cycle.vote_closed()
    expected = tally(
        election.instance,
        election.ballots,
        rule=cycle.rule,
        sat=cycle.satisfaction,
        complete_greedy=cycle.complete_greedy,
    ).selected
    funded = sorted(
        services.tally_id(row.proposal)
        for result in services.compute_results(cycle)
        for row in result.projects
        if row.funded
    )
    assert funded == sorted(expected)
    assert client.get(f"/budgets/cycles/{cycle.pk}/results/").status_code == 200


@pytest.mark.django_db
def test_import_pabulib_refuses_an_unknown_council(tmp_path):
    with pytest.raises(CommandError, match="No council"):
        call_command("import_pabulib", str(SMALL), "--council", "999999")
    assert not BudgetCycle.objects.exists()
