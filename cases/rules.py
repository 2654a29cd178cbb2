"""Permissions of cases. docs/permissions.md is the table; tests/cases/test_permissions.py walks
a matrix of every role against every action, with more refusals than permissions.

Who sees a case (docs/cases.md, "Privacy"): everyone, when it is a public matter about a shared
place; otherwise only its reporter, its parties, its mediator, those who handle it (the grid or
village where it happened, the department it was whistled to) and the officials above it.
"""

import rules

from cases.predicates import (
    is_case_council,
    is_case_department_member,
    is_case_public,
    is_department_member_here,
    is_handler_staff,
    is_local_staff,
    is_mediator,
    is_open_case,
    is_party,
    is_reporter,
    is_township_or_above,
    was_case_department_member,
)
from councils.predicates import (
    is_committee,
    is_committee_of_parent_village,
    is_grid_worker,
    is_official,
    is_verified_member,
)

can_handle = is_open_case & (is_handler_staff | is_case_department_member)
# Those who may see a case whoever it is about, with names, parties and the whole history.
concerned = (
    is_reporter
    | is_party
    | is_mediator
    | is_local_staff
    | is_handler_staff
    | is_case_department_member
    | was_case_department_member
    | is_official
)
is_grid_staff = is_grid_worker | is_committee | is_committee_of_parent_village

rules.add_perm("cases.view_case", is_case_public | concerned)
# A public case shows everyone what happened and what was done, without the reporter's name.
rules.add_perm("cases.view_case_details", concerned)
rules.add_perm("cases.handle_case", can_handle)
rules.add_perm("cases.whistle_case", is_open_case & is_official)
rules.add_perm("cases.confirm_case", is_reporter & is_open_case)
rules.add_perm("cases.mediate_case", is_open_case & (is_mediator | can_handle))
# On a council (a grid or a village):
rules.add_perm("cases.report_grid_event", is_case_council & (is_grid_staff | is_official))
rules.add_perm("cases.raise_demand", is_case_council & is_verified_member)
rules.add_perm(
    "cases.escalate_topic",
    is_case_council & (is_committee | is_committee_of_parent_village | is_official),
)
rules.add_perm("cases.view_summary", is_case_council & (is_grid_staff | is_official))
rules.add_perm("cases.sign_summary", is_case_council & is_grid_staff)
rules.add_perm("cases.export_cases", is_official | (is_case_council & is_committee))
# On a township, district or city:
rules.add_perm("cases.set_rules", is_township_or_above & is_official)
rules.add_perm("cases.manage_departments", is_township_or_above & is_official)
rules.add_perm("cases.view_board", is_township_or_above & is_official)
rules.add_perm(
    "cases.view_department_desk", is_department_member_here | (is_township_or_above & is_official)
)
