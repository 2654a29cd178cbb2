"""Permissions of the index and its entered figures. docs/permissions.md ("Governance") is the
table; tests/governance/test_index_permissions.py walks more roles, with more refusals than
permissions.

- An index is defined, edited and published only by officials of the township, district or
  city that owns it (`manage_index`, on the owner council, the index or a version).
- A figure is entered for a village by an official above it: of the owner or of a council
  between (`enter_figure`, on the village or the figure); the village committee does not enter
  the figures it is measured by. Only officials of the owner publish it (`publish_figure`).
- A draft figure is seen only by officials whose part of the tree holds its village
  (`view_draft_figure`); everyone sees published figures, their evidence included.
"""

import rules

from governance.predicates import (
    is_official_above_village,
    is_official_over_figure,
    is_owner_official,
    is_public_version,
    is_published_figure,
)

rules.add_perm("governance.view_index", rules.always_allow)
rules.add_perm("governance.manage_index", is_owner_official)
rules.add_perm("governance.view_version", is_public_version | is_owner_official)
rules.add_perm("governance.enter_figure", is_official_above_village)
rules.add_perm("governance.publish_figure", is_owner_official)
rules.add_perm("governance.view_draft_figure", is_official_over_figure)
rules.add_perm("governance.view_figure", is_published_figure | is_official_over_figure)
