"""Permissions of participatory budgets. docs/permissions.md is the table; a test walks it."""

import rules

from budgets.predicates import in_results_phase, is_cycle_resident
from councils.predicates import is_committee, is_official, is_supervisor

is_officer = is_committee | is_official

rules.add_perm("budgets.view_cycle", rules.always_allow)
rules.add_perm("budgets.manage_cycle", is_officer)
rules.add_perm("budgets.submit_proposal", is_cycle_resident)
rules.add_perm("budgets.review_proposal", is_committee)
rules.add_perm("budgets.cast_ballot", is_cycle_resident)
rules.add_perm("budgets.enter_paper_ballot", is_committee)
# Who voted and how often they changed their ballot (never what): committee, supervisors, township.
rules.add_perm("budgets.view_roll", is_committee | is_supervisor | is_official)
rules.add_perm("budgets.publish_results", is_committee)
rules.add_perm("budgets.override_result", is_committee)
rules.add_perm("budgets.post_progress", is_committee)
rules.add_perm("budgets.rate_project", is_cycle_resident)
# 结果公示: residents object to the results while they are on public notice; the committee answers.
rules.add_perm("budgets.file_objection", is_cycle_resident & in_results_phase)
rules.add_perm("budgets.answer_objection", is_committee)
# Ending a phase early or extending it, with a public reason (budgets.PhaseChange).
rules.add_perm("budgets.change_phase", is_committee)
