"""The canonical text of a register entry's version: the body of the disclosure record that
publishes it, hashed into the council's chain with the record (disclosure.hashchain).

Always in Chinese and in a fixed order, whatever the reader's language, so that the same
version always gives the same text: verify_registers (assets.services) renders every published
version again and compares it with its record's body, which catches a row changed behind the
ORM's back; the chain catches a changed body.
"""

from decimal import Decimal

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from assets.models import (
    CATEGORIES,
    ContractKind,
    CounterpartyKind,
    Disposal,
    EntryVersion,
    Register,
)


def _money(value: Decimal | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _label(choices, value: str) -> str:
    try:
        return str(choices(value).label) if value else ""
    except ValueError:
        return value


def canonical_text(version: EntryVersion, installments=None) -> str:
    """`installments`: the version's schedule if already read (due_on, amount) pairs."""
    entry = version.entry
    if installments is None:
        installments = [(i.due_on, i.amount) for i in version.installments.all()]
    with translation.override("zh-hans"):
        rows = [
            (pgettext("register entry", "Code"), entry.code),
            (pgettext("asset register", "Register"), _label(Register, entry.register)),
            (_("Version"), str(version.number)),
            (pgettext("register entry", "Name"), version.name),
        ]
        if entry.register in CATEGORIES:
            rows += [
                (_("Category"), _label(CATEGORIES[entry.register], version.category)),
                (_("Location"), version.location),
            ]
        if entry.register == Register.ASSET:
            rows.append((_("Book value (yuan)"), _money(version.book_value)))
        if entry.register == Register.RESOURCE:
            rows += [
                (_("Area (mu)"), _money(version.area)),
                (_("Boundaries"), version.boundaries),
                (_("Map reference"), version.map_reference),
            ]
        if entry.register == Register.CONTRACT:
            rows += [
                (_("Kind of contract"), _label(ContractKind, version.contract_kind)),
                (_("Asset or resource"), version.subject.code if version.subject_id else ""),
                (pgettext("contract", "Counterparty"), version.counterparty),
                (
                    _("Counterparty is"),
                    _label(CounterpartyKind, version.counterparty_kind),
                ),
                (_("Term"), _term(version)),
                (_("Total price (yuan)"), _money(version.price)),
            ]
            rows += [
                (_("Payment due"), f"{due.isoformat()} {_money(amount)}")
                for due, amount in sorted(installments)
            ]
        if version.disposal and entry.register != Register.CONTRACT:
            rows += [
                (_("Disposal"), _label(Disposal, version.disposal)),
                (_("Value of the disposal (yuan)"), _money(version.disposal_value)),
            ]
        if version.disposal:
            rows += [
                (
                    _("Takes effect on"),
                    version.disposed_on.isoformat() if version.disposed_on else "",
                ),
                (_("Resolution"), _resolution(version)),
            ]
        if version.irregular:
            rows.append((_("Irregular"), version.irregular_reason))
        rows += [
            (pgettext("register entry", "Description"), version.description),
            (_("What changed"), version.change_reason),
        ]
        return "\n".join(f"{label}：{value}" for label, value in rows if value != "")


def _term(version: EntryVersion) -> str:
    if not version.starts_on:
        return ""
    end = version.ends_on.isoformat() if version.ends_on else ""
    return f"{version.starts_on.isoformat()} – {end}"


def _resolution(version: EntryVersion) -> str:
    motion = version.resolution
    if motion is None:
        return _("none")
    session = motion.session
    return _("%(session)s (%(date)s), motion %(id)s: %(title)s") % {
        "session": session.title,
        "date": motion.closed_at.date().isoformat() if motion.closed_at else "",
        "id": motion.pk,
        "title": motion.title,
    }
