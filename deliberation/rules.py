"""Permissions of the deliberation app. docs/permissions.md is the table; a test walks it.

Each permission takes a hall, a topic or a consultation day (anything with `.council`).
"""

import rules

from councils.predicates import is_committee, is_official, is_verified_member
from deliberation.predicates import (
    hall_is_public,
    is_topic_author,
    topic_is_answered,
    topic_is_discussable,
)

is_hall_officer = is_committee | is_official
can_view = hall_is_public | is_verified_member | is_hall_officer

rules.add_perm("deliberation.view_hall", can_view)
rules.add_perm("deliberation.view_topic", can_view)
rules.add_perm("deliberation.raise_topic", is_verified_member)
rules.add_perm("deliberation.post_message", is_verified_member & topic_is_discussable)
rules.add_perm("deliberation.set_stance", is_verified_member & topic_is_discussable)
rules.add_perm("deliberation.moderate_message", is_hall_officer)
rules.add_perm("deliberation.change_topic", is_hall_officer)
rules.add_perm("deliberation.schedule_consultationday", is_hall_officer)
rules.add_perm("deliberation.register_consultationday", is_verified_member)
# 评事: the asker rates the committee's answer (once; the service checks that).
rules.add_perm("deliberation.rate_topic", is_topic_author & topic_is_answered & can_view)

# --- Opening halls from the council's page (issue 14, point 5) ------------------------------------
# The committee opens halls in its village and in the grids and special councils right under it
# (which have no committee of their own); township officials anywhere under their township.
from councils.predicates import is_committee_of_parent_village  # noqa: E402

rules.add_perm("deliberation.add_hall", is_committee | is_official | is_committee_of_parent_village)
