"""Ballot validation per ballot type, and receipt codes. No database writes here."""

import hashlib
import secrets
from dataclasses import dataclass
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from budgets.models import BallotType

_RECEIPT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read over the phone


def new_receipt_code() -> str:
    """16 random characters (80 bits) in groups of four: ABCD-EFGH-JKLM-NPQR.

    80 random bits read at once (one system call, not sixteen), five bits a character of the
    32-letter alphabet: every code equally likely."""
    bits = int.from_bytes(secrets.token_bytes(10), "big")
    raw = "".join(_RECEIPT_ALPHABET[(bits >> (5 * i)) & 31] for i in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def receipt_hash(code: str) -> str:
    """What is stored and published: sha256 of the code without dashes or spaces, upper case."""
    normalised = "".join(ch for ch in code.upper() if ch.isalnum())
    return hashlib.sha256(normalised.encode("ascii", "ignore")).hexdigest()


@dataclass(frozen=True)
class Rules:
    ballot_type: str
    budget: Decimal
    max_choices: int
    min_choices: int
    points: int


def clean_choices(rules: Rules, costs: dict[int, Decimal], raw: dict[int, int]) -> dict[int, int]:
    """Check one ballot. `costs` maps the proposals on this ballot to their cost; `raw` maps a
    proposal id to its value (1 for a tick, points, or rank). Returns the cleaned mapping or raises
    ValidationError with every problem found, each a sentence a voter understands."""
    errors = []
    unknown = [pk for pk in raw if pk not in costs]
    if unknown:
        raise ValidationError(_("Your ballot names a project that is not on this ballot."))
    if any(value < 0 for value in raw.values()):
        raise ValidationError(_("Numbers on the ballot cannot be negative."))
    chosen = {pk: value for pk, value in raw.items() if value > 0}
    count = len(chosen)
    kind = rules.ballot_type
    if kind in (BallotType.APPROVAL, BallotType.RANKED) and count > rules.max_choices:
        errors.append(
            ngettext(
                "Choose at most %(k)d project.", "Choose at most %(k)d projects.", rules.max_choices
            )
            % {"k": rules.max_choices}
        )
    if kind == BallotType.APPROVAL and count < rules.min_choices:
        errors.append(
            ngettext(
                "Choose at least %(m)d project.",
                "Choose at least %(m)d projects.",
                rules.min_choices,
            )
            % {"m": rules.min_choices}
        )
    if count == 0 and kind != BallotType.APPROVAL:
        errors.append(_("Your ballot is empty: choose at least one project."))
    if kind == BallotType.KNAPSACK:
        total = sum((costs[pk] for pk in chosen), Decimal("0"))
        if total > rules.budget:
            errors.append(
                _(
                    "Your projects cost %(total)s yuan, more than the budget of "
                    "%(budget)s yuan. Remove a project."
                )
                % {"total": f"{total:,.2f}", "budget": f"{rules.budget:,.2f}"}
            )
    if kind == BallotType.CUMULATIVE:
        spent = sum(chosen.values())
        if spent > rules.points:
            errors.append(
                _("You gave %(spent)d points but have only %(points)d.")
                % {"spent": spent, "points": rules.points}
            )
    if kind == BallotType.RANKED:
        ranks = sorted(chosen.values())
        if len(set(ranks)) != len(ranks):
            errors.append(_("Two projects have the same rank: give each a different number."))
        elif ranks != list(range(1, len(ranks) + 1)):
            errors.append(_("Number your choices 1, 2, 3 … without gaps."))
    if kind in (BallotType.APPROVAL, BallotType.KNAPSACK):
        chosen = dict.fromkeys(chosen, 1)
    if errors:
        raise ValidationError(errors)
    return chosen
