"""Query-string filters of the lists: parsed strictly, a bad value is a 400 that says why.

Each list declares its filters once (`Filter`); the same declaration filters the queryset and
describes the parameter in the OpenAPI schema. No django-filter: a handful of exact matches on
indexed columns is all the API offers, and each one is visible here."""

import datetime
import re
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter
from rest_framework.exceptions import ValidationError

# Larger ids do not fit the database's integer column (SQLite raises OverflowError).
MAX_ID = 2**63 - 1
_MONTH = re.compile(r"(\d{4})-(\d{2})")
_DAY = re.compile(r"(\d{4})-(\d{2})-(\d{2})")


def parse_id(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= MAX_ID:
        raise ValueError(_("Enter an id: a whole number, 1 or more."))
    return int(value)


def parse_month(value: str) -> datetime.date:
    """2026-03: the first of that month."""
    match = _MONTH.fullmatch(value)
    try:
        if match is None:
            raise ValueError
        return datetime.date(int(match[1]), int(match[2]), 1)
    except ValueError:
        raise ValueError(_("Enter a month as YYYY-MM, for example 2026-03.")) from None


def parse_period_start(value: str) -> datetime.date:
    """2026-03 or 2026-03-01: the day a month or quarter starts."""
    match = _DAY.fullmatch(value)
    if match is None:
        return parse_month(value)
    try:
        return datetime.date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        raise ValueError(_("Enter a date as YYYY-MM-DD or a month as YYYY-MM.")) from None


@dataclass(frozen=True)
class Filter:
    name: str
    lookup: str
    description: object  # a lazy translation
    parse: Callable[[str], object] | None = None
    choices: tuple[str, ...] = ()
    openapi_type: object = OpenApiTypes.STR
    # For what one lookup cannot say: (queryset, parsed value) -> queryset.
    apply: Callable | None = None

    def value(self, raw: str):
        if self.choices:
            if raw not in self.choices:
                raise ValueError(
                    _("Choose one of: %(choices)s.") % {"choices": ", ".join(self.choices)}
                )
            return raw
        return self.parse(raw) if self.parse else raw

    def parameter(self) -> OpenApiParameter:
        return OpenApiParameter(
            self.name,
            self.openapi_type,
            OpenApiParameter.QUERY,
            description=str(self.description),
            enum=list(self.choices) or None,
        )


def id_filter(name: str, lookup: str, description) -> Filter:
    return Filter(name, lookup, description, parse=parse_id, openapi_type=OpenApiTypes.INT)


def choice_filter(name: str, lookup: str, description, choices) -> Filter:
    return Filter(name, lookup, description, choices=tuple(choices))


def apply_filters(queryset, filters: tuple[Filter, ...], params):
    """`queryset` narrowed by every filter given in `params`; all bad values at once in a 400."""
    errors, parsed = {}, []
    for item in filters:
        raw = params.get(item.name)
        if raw is None or raw == "":
            continue
        try:
            parsed.append((item, item.value(raw.strip())))
        except ValueError as error:
            errors[item.name] = [str(error)]
    if errors:
        raise ValidationError(errors)
    for item, value in parsed:
        if item.apply:
            queryset = item.apply(queryset, value)
        else:
            queryset = queryset.filter(**{item.lookup: value})
    return queryset


COUNCIL_DESCRIPTION = gettext_lazy("Only what belongs to this council (its id).")
