"""Permissions of the registers (docs/permissions.md has the table; a test walks it).

The committee keeps the registers (drafts entries and new versions, submits them to the
supervisory committee through their disclosure records, imports and exports them); review,
sign-off and publication are the disclosure record's own steps and permissions. Everyone sees
what is published; the committee, the supervisors and the officials above see drafts. A
township's officials set its thresholds.
"""

import rules

from assets.predicates import version_is_draft, version_is_published
from councils.predicates import is_committee, is_official, is_supervisor

can_see_unpublished = is_committee | is_supervisor | is_official

rules.add_perm("assets.view_version", version_is_published | can_see_unpublished)
rules.add_perm("assets.view_drafts", can_see_unpublished)
rules.add_perm("assets.add_entry", is_committee)
rules.add_perm("assets.change_version", is_committee & version_is_draft)
rules.add_perm("assets.import_entries", is_committee)
rules.add_perm("assets.set_thresholds", is_official)
