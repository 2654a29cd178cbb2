"""What residents write must be visible, and a name must not pass for an office.

One place for these checks: the profile form (councils.forms.ProfileForm) and the hall message
path (deliberation.services.post_message) both call them.

- Visible text: at least one character that is not a format/control character (Cf, Cc: zero-width
  spaces and joiners, BOM, soft hyphen, direction marks...), a separator (Z*: spaces of every
  width), a filler (U+3164 Hangul filler, U+115F/U+1160, U+FFA0, braille blank) or a combining
  mark on its own (M*).
- Display names: visible, with no bidirectional embedding, override or isolate (U+202A-U+202E,
  U+2066-U+2069, which reorder what follows them on screen), no other invisible character, and
  not imitating an office: after NFKC normalisation and removing spaces, punctuation and every
  invisible character, the name may not contain one of OFFICE_WORDS nor start or end with one of
  OFFICE_WORDS_LATIN (so 村 委 会, 村·委·会, full-width ａｄｍｉｎ or ADMIN do not slip through).
"""

import unicodedata

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Words that would make a resident's name look like the voice of an office or of the site.
# Short on purpose (docs/threat-model.md): each one is what residents would take as official.
# Chinese words are refused anywhere in the name.
OFFICE_WORDS = (
    "村委会",
    "村委",
    "居委会",
    "居委",
    "监委会",
    "监委",
    "村民委员会",
    "居民委员会",
    "监督委员会",
    "党委",
    "党支部",
    "支部书记",
    "政府",
    "街道办",
    "官方",
    "管理员",
    "客服",
    "系统",
    "议事平台",
)
# Latin words are refused at the start or the end of the name (ADMIN, Admin Zhang, the_official),
# so that a name that merely contains the letters (Badminton Li) stays allowed.
OFFICE_WORDS_LATIN = ("admin", "official", "moderator", "system", "staff")

BIDI_CONTROLS = frozenset(chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A)))
# Letters (Lo) that display as nothing.
INVISIBLE_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def is_invisible(char: str) -> bool:
    """A format or control character, a separator (any space), or a letter that shows nothing."""
    category = unicodedata.category(char)
    return category in ("Cf", "Cc", "Cs") or category[0] == "Z" or char in INVISIBLE_LETTERS


def has_visible_text(text: str) -> bool:
    """At least one character that shows: not invisible, and not a combining mark alone."""
    return any(not is_invisible(char) and unicodedata.category(char)[0] != "M" for char in text)


def require_visible_text(text: str, *, code: str = "invisible") -> None:
    if not has_visible_text(text):
        raise ValidationError(
            _("Write something visible: spaces and invisible characters alone are not a message."),
            code=code,
        )


def _skeleton(name: str) -> str:
    """The name as compared with OFFICE_WORDS: NFKC, lower case, only letters and digits."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    return "".join(char for char in folded if unicodedata.category(char)[0] in ("L", "N"))


def validate_display_name(name: str) -> None:
    """Raise ValidationError unless `name` is fit to show next to what a resident writes."""
    if any(char in BIDI_CONTROLS for char in name):
        raise ValidationError(
            _("A display name cannot contain characters that change the direction of text."),
            code="bidi",
        )
    # Spaces are fine between words (NFKC turns the ideographic and no-break spaces into " ").
    if not has_visible_text(name) or any(
        is_invisible(char) and unicodedata.normalize("NFKC", char) != " " for char in name
    ):
        raise ValidationError(
            _("A display name cannot contain invisible characters. Use letters or digits."),
            code="invisible",
        )
    skeleton = _skeleton(name)
    if (
        any(word in skeleton for word in OFFICE_WORDS)
        or skeleton.startswith(OFFICE_WORDS_LATIN)
        or skeleton.endswith(OFFICE_WORDS_LATIN)
    ):
        raise ValidationError(
            _(
                "A display name cannot look like an office or the site itself "
                "(for example 村委会, 官方, 管理员 or admin). Choose a personal name."
            ),
            code="office",
        )
