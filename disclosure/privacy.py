"""Personal data in welfare lists: names are masked in public, ID numbers never stored.

A 低保 or subsidy list names the households that receive public money; the law wants it public,
PIPL wants the minimum. So the public sees 王*英, and an 18-character resident ID number is
refused before it is saved anywhere (it would otherwise end up in the append-only hash chain).
"""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# 17 digits and a digit or X, not part of a longer number: what a resident ID number looks like.
ID_NUMBER = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
# An 11-digit mainland mobile number.
MOBILE_NUMBER = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")


def mask_name(name: str) -> str:
    """王小英 -> 王*英, 王英 -> 王*, 欧阳小明 -> 欧**明; keep the first and last character."""
    name = (name or "").strip()
    if len(name) <= 1:
        return "*" if name else ""
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def check_no_identity_numbers(**texts: str) -> None:
    """Raise a ValidationError on each field whose text holds an ID or mobile number."""
    errors = {}
    for field, text in texts.items():
        if not text:
            continue
        if ID_NUMBER.search(text):
            errors[field] = _(
                "Remove the ID card number: lists of people are public, and ID numbers must "
                "never be published (write the name and the amount only)."
            )
        elif MOBILE_NUMBER.search(text):
            errors[field] = _(
                "Remove the phone number: lists of people are public, and phone numbers must "
                "never be published."
            )
    if errors:
        raise ValidationError(errors)
