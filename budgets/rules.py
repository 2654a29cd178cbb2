"""Permissions of participatory budgets. docs/permissions.md is the table; a test walks it.

Who may act is a role; when is a phase (`phase_is`, as adhocracy4 composes them). The
`*_now` permissions are the role and the phase together: views and templates ask them with
`has_perm`, and `why_not` gives the words a view shows and a service raises. Services keep
their own authoritative checks (the ballot's phase is checked again inside its write:
docs/ballots.md).
"""

import rules
from django.utils.translation import gettext_lazy as _

from budgets.models import PhaseKind
from budgets.predicates import in_results_phase, is_cycle_resident, phase_is
from councils.predicates import is_committee, is_official, is_supervisor

is_officer = is_committee | is_official

# Who may act (the role), whatever the phase.
ROLES = {
    "budgets.view_cycle": rules.always_allow,
    "budgets.manage_cycle": is_officer,
    "budgets.submit_proposal": is_cycle_resident,
    "budgets.review_proposal": is_committee,
    "budgets.cast_ballot": is_cycle_resident,
    "budgets.enter_paper_ballot": is_committee,
    # Who voted and how often they changed their ballot (never what): committee, supervisors,
    # township.
    "budgets.view_roll": is_committee | is_supervisor | is_official,
    "budgets.publish_results": is_committee,
    "budgets.override_result": is_committee,
    "budgets.post_progress": is_committee,
    "budgets.rate_project": is_cycle_resident,
    # 结果公示: residents object while the results are on public notice; the committee answers.
    "budgets.file_objection": is_cycle_resident & in_results_phase,
    "budgets.answer_objection": is_committee,
    # Ending a phase early or extending it, with a public reason (budgets.PhaseChange).
    "budgets.change_phase": is_committee,
}

# When an action is open, and what someone is told when it is not. `<action>_now` is the role
# and the phase together: what views and templates ask.
PHASES = {
    "budgets.submit_proposal": (
        (PhaseKind.COLLECT,),
        _("Proposals are collected only in the proposal phase."),
    ),
    "budgets.review_proposal": (
        (PhaseKind.COLLECT, PhaseKind.REVIEW),
        _("Proposals can be reviewed only before deliberation starts."),
    ),
    "budgets.cast_ballot": ((PhaseKind.VOTE,), _("Voting is not open now.")),
    "budgets.enter_paper_ballot": ((PhaseKind.VOTE,), _("Voting is not open now.")),
    "budgets.file_objection": (
        (PhaseKind.RESULTS,),
        _("Objections are filed only while the results are on public notice."),
    ),
}

# What someone without the role is told (services raise it as PermissionDenied).
ROLE_REFUSALS = {
    "budgets.submit_proposal": _("Only verified residents of this council can propose projects."),
    "budgets.review_proposal": _("Only the committee can review proposals."),
    "budgets.file_objection": _(
        "Only verified residents of this council can object to its results."
    ),
}

for _action, _predicate in ROLES.items():
    rules.add_perm(_action, _predicate)
for _action, (_kinds, _closed) in PHASES.items():
    rules.add_perm(f"{_action}_now", ROLES[_action] & phase_is(*_kinds))


def phase_refusal(action: str, cycle) -> str | None:
    """The words for `action` when its phase is not open in `cycle`, else None."""
    kinds, closed = PHASES.get(action, ((), None))
    if kinds and cycle.phase_at() not in kinds:
        return str(closed)
    return None


def why_not(user, action: str, cycle) -> str | None:
    """Why `user` may not do `action` in `cycle` now, or None: the phase first (true for
    everyone), then the role. Views show it; services raise it."""
    closed = phase_refusal(action, cycle)
    if closed:
        return closed
    if not user.has_perm(action, cycle):
        return str(ROLE_REFUSALS.get(action, _("You may not do this.")))
    return None
