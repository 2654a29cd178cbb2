"""Permissions of the councils app. docs/permissions.md is the table; a test walks it."""

import rules

from councils.predicates import (
    council_accepts_residents,
    has_pending_or_verified_membership,
    is_committee,
    is_official,
    is_supervisor,
)

rules.add_perm("councils.view_council", rules.always_allow)
rules.add_perm(
    "councils.join_council",
    rules.is_authenticated & council_accepts_residents & ~has_pending_or_verified_membership,
)
rules.add_perm("councils.verify_membership", is_committee | is_official)
rules.add_perm("councils.view_members", is_committee | is_supervisor | is_official)
rules.add_perm("councils.view_real_name", is_committee | is_supervisor | is_official)
rules.add_perm("councils.assign_role", is_committee | is_official)
rules.add_perm("councils.manage_household", is_committee)
# Running the council from its own pages (issue 14, point 5): setting up a grid or a special
# council under the village, and reading the log of what the committee did.
rules.add_perm("councils.add_council", is_committee | is_official)
rules.add_perm("councils.view_actions", is_committee | is_supervisor | is_official)
