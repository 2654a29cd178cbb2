"""Permissions of the three openings. docs/permissions.md has the table; a test walks it.

The committee drafts, publishes, corrects and answers; the supervisory committee reviews (never
a record it helped prepare, and a signer never publishes); verified residents ask questions;
the committee, supervisors and the officials
above see the dashboards and unpublished drafts. Everyone sees what is published.
"""

import rules

from councils.predicates import is_committee, is_official, is_resident, is_supervisor
from disclosure.predicates import (
    is_preparer,
    is_signer,
    record_in_review,
    record_is_corrected,
    record_is_draft,
    record_is_published,
    record_is_signed_off,
)

can_see_unpublished = is_committee | is_supervisor | is_official

rules.add_perm("disclosure.view_record", record_is_published | can_see_unpublished)
rules.add_perm("disclosure.add_record", is_committee)
rules.add_perm("disclosure.change_record", is_committee & record_is_draft)
rules.add_perm("disclosure.submit_record", is_committee & record_is_draft)
# Separation of duties: whoever prepared a record never signs it off, a committee member never
# signs off (村民委员会组织法 art. 32: the two bodies are held by different people), and whoever
# signed it off never publishes it.
rules.add_perm(
    "disclosure.sign_off_record",
    is_supervisor & ~is_committee & record_in_review & ~is_preparer,
)
rules.add_perm(
    "disclosure.object_to_record", is_supervisor & (record_in_review | record_is_signed_off)
)
rules.add_perm("disclosure.publish_record", is_committee & record_is_signed_off & ~is_signer)
rules.add_perm(
    "disclosure.correct_record", is_committee & record_is_published & ~record_is_corrected
)
rules.add_perm("disclosure.ask_question", is_resident & record_is_published)
rules.add_perm("disclosure.answer_question", is_committee & record_is_published)
rules.add_perm("disclosure.view_dashboard", can_see_unpublished)
