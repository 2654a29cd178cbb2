"""Permissions of the three openings. docs/permissions.md has the table; a test walks it.

The committee drafts, publishes, corrects and answers; the supervisory committee reviews (never
a record it helped prepare, and a signer never publishes); verified residents ask questions;
the committee, supervisors and the officials
above see the dashboards and unpublished drafts. Everyone sees what is published.
"""

import rules
from django.utils.translation import gettext_lazy as _

from councils.predicates import is_committee, is_official, is_resident, is_supervisor
from disclosure.predicates import (
    is_preparer,
    is_signer,
    record_in_review,
    record_is_corrected,
    record_is_draft,
    record_is_managed,
    record_is_published,
    record_is_signed_off,
)

can_see_unpublished = is_committee | is_supervisor | is_official

rules.add_perm("disclosure.view_record", record_is_published | can_see_unpublished)
rules.add_perm("disclosure.add_record", is_committee)
rules.add_perm("disclosure.change_record", is_committee & record_is_draft & ~record_is_managed)
rules.add_perm("disclosure.submit_record", is_committee & record_is_draft & ~record_is_managed)
# The text of a record another app keeps (assets/) is written by that app's services only.
rules.add_perm(
    "disclosure.change_managed_record", is_committee & record_is_draft & record_is_managed
)
rules.add_perm(
    "disclosure.submit_managed_record", is_committee & record_is_draft & record_is_managed
)
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
    "disclosure.correct_record",
    is_committee & record_is_published & ~record_is_corrected & ~record_is_managed,
)
rules.add_perm("disclosure.ask_question", is_resident & record_is_published)
rules.add_perm("disclosure.answer_question", is_committee & record_is_published)
rules.add_perm("disclosure.view_dashboard", can_see_unpublished)


# --- why an action is refused: the one source of the words views show and services raise ------

# Kinds of refusal, raised by services as ImmutableRecordError, ValidationError, PermissionDenied.
PUBLISHED, STATE, ROLE = "published", "state", "role"

WITH_SUPERVISORS = _(
    "This record is with the supervisory committee. It can be changed again only if they object "
    "and send it back."
)
MANAGED = _(
    "This record publishes an entry of the asset, resource and contract registers: change it "
    "on the register, where a change is a new version."
)
ROLE_REFUSALS = {
    "disclosure.change_record": _("Only the committee edits drafts."),
    "disclosure.change_managed_record": _("Only the committee edits drafts."),
    "disclosure.submit_managed_record": _("Only the committee submits drafts."),
    "disclosure.submit_record": _("Only the committee submits drafts."),
    "disclosure.sign_off_record": _("Only the supervisory committee signs off disclosures."),
    "disclosure.object_to_record": _("Only the supervisory committee reviews disclosures."),
    "disclosure.publish_record": _("Only the committee publishes."),
    "disclosure.correct_record": _("Only the committee corrects records."),
    "disclosure.ask_question": _(
        "Only verified residents of this village can ask about its disclosures."
    ),
    "disclosure.answer_question": _("Only the committee answers."),
}


def _state_refusal(user, action: str, record) -> tuple[str, str] | None:
    """What the record's state (true for everyone) or the separation of duties forbids."""
    from councils.models import Role
    from councils.predicates import roles_in
    from disclosure.models import Status, immutable_message
    from disclosure.services import preparer_ids, signer_ids

    status = record.status
    if record.managed_by and action in (
        "disclosure.change_record",
        "disclosure.correct_record",
        "disclosure.submit_record",
    ):
        return STATE, MANAGED
    if action == "disclosure.correct_record":
        if status != Status.PUBLISHED:
            return STATE, _("Only a published record is corrected; edit a draft instead.")
        if record.corrections.exists():
            return STATE, _("This record already has a correction. Correct the correction instead.")
        return None
    if action == "disclosure.ask_question":
        if status != Status.PUBLISHED:
            return ROLE, _("Questions can be asked only about published records.")
        return None
    if action not in ROLE_REFUSALS or action == "disclosure.answer_question":
        return None
    if status == Status.PUBLISHED:
        return PUBLISHED, immutable_message()
    if action in (
        "disclosure.change_record",
        "disclosure.change_managed_record",
        "disclosure.submit_record",
        "disclosure.submit_managed_record",
    ):
        return (STATE, WITH_SUPERVISORS) if status != Status.DRAFT else None
    if action == "disclosure.sign_off_record":
        if user.pk in preparer_ids(record):
            return ROLE, _(
                "You prepared this record (drafted, edited, added lines or files, or submitted "
                "it), so another supervisor must sign it off."
            )
        if status != Status.IN_REVIEW:
            return STATE, _("Only a record submitted for review can be signed off.")
        if Role.COMMITTEE in roles_in(user, record.council):
            return ROLE, _(
                "You are on the village committee as well: the committee and the supervisory "
                "committee are held by different people (Organic Law, art. 32), so you cannot "
                "sign off."
            )
    if action == "disclosure.object_to_record":
        if status not in (Status.IN_REVIEW, Status.SIGNED_OFF):
            return STATE, _("Only a record under review can be objected to.")
    if action == "disclosure.publish_record":
        if status != Status.SIGNED_OFF:
            return STATE, _(
                "A record is published only after the supervisory committee has signed it off."
            )
        if user.pk in signer_ids(record):
            return ROLE, _(
                "You signed this record off, so another committee member must publish it."
            )
    return None


def refusal(user, action: str, record) -> tuple[str, str] | None:
    """(kind, words) when `user` may not do `action` on `record` now, else None: the record's
    state first (true for everyone), then the separation of duties, then the role."""
    if user.has_perm(action, record):
        return None
    found = _state_refusal(user, action, record)
    if found:
        return found
    return ROLE, ROLE_REFUSALS.get(action, _("You may not do this."))


def why_not(user, action: str, record) -> str | None:
    """Why `user` may not do `action` on `record` (the words views show and services raise),
    or None when they may."""
    found = refusal(user, action, record)
    return str(found[1]) if found else None
