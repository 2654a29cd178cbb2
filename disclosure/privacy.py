"""Personal data in the ledgers: names masked on welfare lists, ID and phone numbers never kept.

A 低保 or subsidy list names the households that receive public money; the law wants it public,
PIPL wants the minimum. So a welfare list has a name column that is stored only in its masked
public form (王*英), and a resident ID number (18 digits with a valid check digit, or the old
15-digit form) or a mainland mobile number is refused in every field of every record, line,
question and answer before anything is saved (it would otherwise end up in the append-only hash
chain, which can never be edited).
"""

import datetime
import re
import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# Candidates; checked further below (check digit, birth date) so that long voucher numbers pass.
ID_NUMBER = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
OLD_ID_NUMBER = re.compile(r"(?<![0-9])[0-9]{15}(?![0-9A-Za-z])")
# An 11-digit mainland mobile number, with or without +86 in front.
MOBILE_NUMBER = re.compile(r"(?<![0-9])(?:\+?86)?1[3-9][0-9]{9}(?![0-9])")
# Spaces, dashes and dots people put between digit groups: 138-1234-5678, 1101 0519 ...
_DIGIT_SEPARATORS = re.compile(r"(?<=[0-9])[\s\-.·]+(?=[0-9])")
_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"


def mask_name(name: str) -> str:
    """王小英 -> 王*英, 王英 -> 王*, 欧阳小明 -> 欧**明; keep the first and last character.

    Masking a masked name gives the same text, so it is safe to apply at every exit.
    """
    name = (name or "").strip()
    if len(name) <= 1:
        return "*" if name else ""
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def _is_birth_date(text: str) -> bool:
    try:
        day = datetime.date(int(text[:4]), int(text[4:6]), int(text[6:8]))
    except ValueError:
        return False
    return 1900 <= day.year <= 2100


def has_valid_check_digit(candidate: str) -> bool:
    """GB 11643: the 18th character is the ISO 7064 MOD 11-2 check of the first 17 digits."""
    candidate = candidate.upper()
    if len(candidate) != 18 or not candidate[:17].isdigit():
        return False
    total = sum(
        int(digit) * weight for digit, weight in zip(candidate[:17], _ID_WEIGHTS, strict=True)
    )
    return _ID_CHECK[total % 11] == candidate[17]


def is_id_number(candidate: str) -> bool:
    """An 18-digit resident ID (a valid check digit, or a real birth date in digits 7-14: a
    mistyped ID is still someone's ID), or the old 15-digit form (birth date in digits 7-12).
    A voucher number of 15 or 18 digits without a date in that place passes."""
    candidate = candidate.upper()
    if candidate[:1] in ("", "0"):
        return False  # area codes start with 1-8
    if len(candidate) == 18:
        return has_valid_check_digit(candidate) or _is_birth_date(candidate[6:14])
    if len(candidate) == 15 and candidate.isdigit():
        return _is_birth_date("19" + candidate[6:12])
    return False


def _variants(text: str) -> tuple[str, ...]:
    # Full-width digits (１３８…) become ASCII; "138 1234 5678" is also read as one number.
    normal = unicodedata.normalize("NFKC", text)
    joined = _DIGIT_SEPARATORS.sub("", normal)
    return (normal, joined) if joined != normal else (normal,)


def identity_kind(text: str) -> str | None:
    """'id' or 'mobile' when the text holds a resident ID or a mobile number, else None."""
    if not text:
        return None
    for variant in _variants(text):
        for pattern in (ID_NUMBER, OLD_ID_NUMBER):
            if any(is_id_number(m.group(0)) for m in pattern.finditer(variant)):
                return "id"
        if MOBILE_NUMBER.search(variant):
            return "mobile"
    return None


def identity_message(kind: str) -> str:
    if kind == "id":
        return _(
            "Remove the ID card number: everything in the ledgers is published and kept for "
            "good, and ID numbers must never be published."
        )
    return _(
        "Remove the phone number: everything in the ledgers is published and kept for good, "
        "and phone numbers must never be published."
    )


def check_no_identity_numbers(**texts: str) -> None:
    """Raise a ValidationError on each field whose text holds an ID or mobile number."""
    errors = {}
    for field, text in texts.items():
        kind = identity_kind(text)
        if kind:
            errors[field] = identity_message(kind)
    if errors:
        raise ValidationError(errors)
