"""Contracts drive the ledger (issue 20, point 3): each payment on a contract's schedule is
expected in the village's published finance ledger; late and missing payments are flagged on
the contract and on the township's dashboard (docs/assets.md).

**Receipts.** An income line of a PUBLISHED finance record of the contract's own village that
carries the contract's code (HT-001) in its voucher number, account or description pays that
contract: it becomes a `Receipt`. The code is matched case-insensitively and whole: HT-001 is
not found in HT-0011, XHT-001 or HT-001-2 (a letter or digit next to it, or after it a - or _
followed by one, makes it part of another code; "记-03-HT-001" and "HT-001/2025" name it).
A line pays at most one contract: a line naming two contracts' codes is ambiguous and pays
neither (the committee books it again, on two lines). A reversing line (红字冲销,
`LineItem.reverses`) of a receipt is a receipt of the same contract, with its negative amount,
whatever its text says.

**Allocation.** Oldest due first, the usual accounting rule: the receipts of a contract, in the
order of their dates (a reversed line and its reversal drop out together, as if never booked),
fill the payments due of its current schedule (the latest published version's) one after the
other; what is left after the last one is paid in advance (a credit). A payment due is paid on
the day of the receipt that completed it. Receipts dated after the day asked about do not
count yet.

**Status on a day** (`installment_status`), with the township's `grace_days`
(assets.services.thresholds_for): paid on time (in full by the due date plus the grace), paid
late (after it, so many days after the due date), overdue (the grace has passed and it is not
paid in full: the rest is missing), partly paid (something paid, the grace not yet passed), due
soon (due within DUE_SOON_DAYS, or due and in its grace), not yet due.

**Precomputed.** The pages never read the ledger's lines per request (issue 19's rule). The
sweep (`sweep`, every minute via manage.py reap_tasks, registered in assets.apps) matches
new receipts and stores each contract's `ContractState` and its payments' `InstallmentState`
rows; the contract page and the township dashboard read those. A village is worked on again
only when something it depends on changed: a finance record of it was published after its
last computation began, less PUBLISH_MARGIN (so a publication whose transaction was still open
while the sweep read is not missed; such a village is simply worked on again for a few
minutes), a contract has a new published version or no state yet, the township changed its
grace days, or the day changed (statuses move with the calendar). Publishing a finance record
does not call in here directly (disclosure may not import assets, and publish_record has no
hook): the next sweep, within a minute, picks it up. One reaper runs the sweeps (docs/
architecture.md); two at once could collide on a village and the loser's minute is retried.
"""

import datetime
import logging
import re
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import DatabaseError, transaction
from django.db.models import Max, OuterRef, Q, Subquery
from django.utils import timezone

from assets.models import (
    ContractState,
    EntryVersion,
    Installment,
    InstallmentState,
    PaymentStatus,
    Receipt,
    Register,
    Threshold,
)
from councils.models import CouncilPage, Level
from disclosure.models import Kind, LineItem, Record, Status

logger = logging.getLogger(__name__)
ZERO = Decimal("0")
DUE_SOON_DAYS = 30
# Villages worked on per sweep at most (the day's rollover spreads over a few minutes).
SWEEP_BATCH = 200
PUBLISH_MARGIN = datetime.timedelta(minutes=5)
DEFAULT_GRACE_DAYS = Threshold._meta.get_field("grace_days").default


# --- matching ------------------------------------------------------------------------------------


def code_pattern(code: str) -> re.Pattern:
    """The contract's code as a whole word of a ledger line, in any case."""
    return re.compile(
        r"(?<![A-Za-z0-9])" + re.escape(code) + r"(?![A-Za-z0-9])(?![-_][A-Za-z0-9])",
        re.IGNORECASE,
    )


def codes_in(texts, patterns: dict[str, re.Pattern]) -> set[str]:
    """The contract codes a line's texts name (whole codes only)."""
    return {code for code, pattern in patterns.items() if any(pattern.search(t) for t in texts)}


def _match_village(village_id: int, contracts: dict[str, int]) -> tuple[int, int]:
    """Receipts for the village's contracts (code -> entry id) from its published finance
    ledger: new lines that name one code, and reversals of lines already matched. Returns
    (receipts made, ambiguous lines)."""
    if not contracts:
        return 0, 0
    patterns = {code: code_pattern(code) for code in contracts}
    named = Q()
    for code in contracts:
        for column in ("voucher_number", "account", "description"):
            named |= Q(**{f"{column}__icontains": code})
    published = LineItem.objects.filter(
        record__council_id=village_id,
        record__kind=Kind.FINANCE,
        record__status=Status.PUBLISHED,
        contract_receipt__isnull=True,
    )
    made, ambiguous = [], 0
    candidates = published.filter(named, income__gt=0, reverses__isnull=True).values_list(
        "pk", "voucher_number", "account", "description"
    )
    for pk, *texts in candidates:
        found = codes_in(texts, patterns)
        if len(found) == 1:
            made.append(Receipt(contract_id=contracts[found.pop()], line_id=pk))
        elif found:  # two contracts' codes: pays neither
            ambiguous += 1
    reversals = published.filter(
        reverses__isnull=False, reverses__contract_receipt__isnull=False
    ).values_list("pk", "reverses__contract_receipt__contract_id")
    made += [Receipt(contract_id=contract, line_id=pk) for pk, contract in reversals]
    Receipt.objects.bulk_create(made, ignore_conflicts=True)
    return len(made), ambiguous


# --- allocation and status -----------------------------------------------------------------------


@dataclass
class Allocated:
    due_on: datetime.date
    amount: Decimal
    paid: Decimal = ZERO
    paid_on: datetime.date | None = None


def allocate(schedule, payments, *, today: datetime.date) -> tuple[list[Allocated], Decimal]:
    """Fill the schedule [(due_on, amount)] with the payments [(date, amount)] dated up to
    `today`, oldest due first. Returns the payments due as filled, and what is left over (paid
    in advance of the schedule's end)."""
    rows = [Allocated(due, amount) for due, amount in sorted(schedule)]
    left_over = ZERO
    current = 0
    for day, amount in sorted(p for p in payments if p[0] <= today):
        left = amount
        while left > 0 and current < len(rows):
            row = rows[current]
            take = min(left, row.amount - row.paid)
            row.paid += take
            left -= take
            if row.paid == row.amount:
                row.paid_on = day
                current += 1
        left_over += left
    return rows, left_over


def installment_status(
    *,
    due_on: datetime.date,
    amount: Decimal,
    paid: Decimal,
    paid_on: datetime.date | None,
    today: datetime.date,
    grace_days: int,
) -> tuple[str, int]:
    """(status, days late) of a payment due on `today` (see the module's docstring)."""
    deadline = due_on + datetime.timedelta(days=grace_days)
    if paid >= amount and paid_on is not None:
        if paid_on > deadline:
            return PaymentStatus.PAID_LATE, (paid_on - due_on).days
        return PaymentStatus.PAID, 0
    if today > deadline:
        return PaymentStatus.OVERDUE, (today - due_on).days
    if paid > 0:
        return PaymentStatus.PARTLY_PAID, 0
    if due_on <= today + datetime.timedelta(days=DUE_SOON_DAYS):
        return PaymentStatus.DUE_SOON, 0
    return PaymentStatus.NOT_DUE, 0


def effective_payments(receipts) -> list[tuple[datetime.date, Decimal]]:
    """[(date, amount)] of receipts [(line id, reverses id, date, amount)]: a reversed line and
    its reversal drop out together (the booking was wrong, never a payment)."""
    reversed_ids = {reverses for _pk, reverses, _day, _amount in receipts if reverses}
    return [
        (day, amount)
        for pk, reverses, day, amount in receipts
        if not reverses and pk not in reversed_ids
    ]


# --- the sweep -----------------------------------------------------------------------------------


def _current_contract_versions(village_ids=None):
    """(entry id, code, village id, version id) of each contract's latest published version."""
    newest = (
        EntryVersion.objects.filter(entry=OuterRef("entry"), record__status=Status.PUBLISHED)
        .order_by("-number")
        .values("pk")[:1]
    )
    versions = EntryVersion.objects.filter(
        entry__register=Register.CONTRACT, pk=Subquery(newest)
    ).order_by()
    if village_ids is not None:
        versions = versions.filter(entry__council_id__in=village_ids)
    return versions.values_list("entry_id", "entry__code", "entry__council_id", "pk")


def grace_days_of(village_paths: dict[int, str]) -> dict[int, int]:
    """Each village's township's grace days (the default where its township set none). One
    query, whatever the number of villages."""
    by_path = dict(Threshold.objects.values_list("township__path", "grace_days"))
    step = CouncilPage.steplen
    found = {}
    for village_id, path in village_paths.items():
        grace = DEFAULT_GRACE_DAYS
        for end in range(len(path) - step, 0, -step):
            if path[:end] in by_path:
                grace = by_path[path[:end]]
                break
        found[village_id] = grace
    return found


def villages_to_refresh(*, today: datetime.date, limit: int = SWEEP_BATCH) -> dict[int, int]:
    """{village id: grace days} of the villages whose stored states are out of date, the
    stalest first, at most `limit`. Five queries, whatever the number of villages."""
    current = list(_current_contract_versions())
    village_ids = {village for _entry, _code, village, _version in current}
    if not village_ids:
        return {}
    paths = dict(
        CouncilPage.objects.filter(pk__in=village_ids, level=Level.VILLAGE).values_list(
            "pk", "path"
        )
    )
    grace = grace_days_of(paths)
    states = {
        row[0]: row[1:]
        for row in ContractState.objects.values_list(
            "contract_id", "version_id", "as_of", "grace_days", "computed_at"
        )
    }
    published = dict(
        Record.objects.filter(status=Status.PUBLISHED, kind=Kind.FINANCE)
        .order_by()
        .values("council_id")
        .annotate(last=Max("published_at"))
        .values_list("council_id", "last")
    )
    stale: dict[int, datetime.datetime | None] = {}
    for entry, _code, village, version in current:
        if village not in paths:
            continue
        state = states.get(entry)
        if state is None:
            stale[village] = None
            continue
        state_version, as_of, state_grace, computed_at = state
        last = published.get(village)
        if (
            state_version != version
            or as_of != today
            or state_grace != grace[village]
            or (last is not None and last > computed_at - PUBLISH_MARGIN)
        ):
            if village not in stale or (stale[village] and computed_at < stale[village]):
                stale[village] = computed_at
    oldest_first = sorted(stale, key=lambda v: (stale[v] is not None, stale[v] or 0, v))
    return {village: grace[village] for village in oldest_first[:limit]}


@transaction.atomic
def refresh_village(
    village_id: int, *, grace_days: int, today: datetime.date, now: datetime.datetime
) -> tuple[int, int, int]:
    """Match the village's new receipts and store its contracts' states as of `today`.
    Returns (receipts made, ambiguous lines, contracts stored)."""
    current = list(_current_contract_versions([village_id]))
    contracts = {code.upper(): entry for entry, code, _village, _version in current}
    made, ambiguous = _match_village(village_id, contracts)
    versions = {entry: version for entry, _code, _village, version in current}
    schedules: dict[int, list[tuple[int, datetime.date, Decimal]]] = {}
    for pk, version, due_on, amount in Installment.objects.filter(
        version_id__in=versions.values()
    ).values_list("pk", "version_id", "due_on", "amount"):
        schedules.setdefault(version, []).append((pk, due_on, amount))
    receipts: dict[int, list] = {}
    for contract, *row in Receipt.objects.filter(contract_id__in=versions).values_list(
        "contract_id", "line_id", "line__reverses_id", "line__date", "line__income"
    ):
        receipts.setdefault(contract, []).append(tuple(row))
    states, installment_states = [], []
    for entry, version in versions.items():
        schedule = sorted(schedules.get(version, []), key=lambda r: (r[1], r[0]))
        rows, _left_over = allocate(
            [(due, amount) for _pk, due, amount in schedule],
            effective_payments(receipts.get(entry, [])),
            today=today,
        )
        state = ContractState(
            contract_id=entry,
            council_id=village_id,
            version_id=version,
            as_of=today,
            grace_days=grace_days,
            scheduled=sum((r.amount for r in rows), ZERO),
            due=sum((r.amount for r in rows if r.due_on <= today), ZERO),
            paid=sum(
                (amount for _pk, _rev, day, amount in receipts.get(entry, []) if day <= today),
                ZERO,
            ),
            computed_at=now,
        )
        for (pk, _due, _amount), row in zip(schedule, rows, strict=True):
            status, days_late = installment_status(
                due_on=row.due_on,
                amount=row.amount,
                paid=row.paid,
                paid_on=row.paid_on,
                today=today,
                grace_days=grace_days,
            )
            if status == PaymentStatus.OVERDUE:
                state.overdue_count += 1
                state.overdue_amount += row.amount - row.paid
            elif status == PaymentStatus.PAID_LATE:
                state.late_count += 1
            installment_states.append(
                InstallmentState(
                    installment_id=pk,
                    status=status,
                    paid=row.paid,
                    paid_on=row.paid_on,
                    days_late=days_late,
                    as_of=today,
                )
            )
        states.append(state)
    # The states of earlier schedules go with the rest: one version's schedule is current.
    InstallmentState.objects.filter(installment__version__entry_id__in=versions).delete()
    ContractState.objects.filter(contract_id__in=versions).delete()
    ContractState.objects.bulk_create(states)
    InstallmentState.objects.bulk_create(installment_states)
    return made, ambiguous, len(states)


def sweep(
    *,
    today: datetime.date | None = None,
    now: datetime.datetime | None = None,
    limit: int = SWEEP_BATCH,
) -> dict[str, int]:
    """Every minute (core.tasks.register_sweep): bring the stale villages' receipts and
    contract states up to date."""
    now = now or timezone.now()
    today = today or timezone.localdate(now)
    counts = {
        "contract_receipts": 0,
        "contract_receipts_ambiguous": 0,
        "contract_states": 0,
        "contract_villages_failed": 0,
    }
    for village_id, grace in villages_to_refresh(today=today, limit=limit).items():
        try:
            made, ambiguous, stored = refresh_village(
                village_id, grace_days=grace, today=today, now=now
            )
        except DatabaseError:
            # One village's trouble (a second sweep writing it at once) must not hold up the
            # others, which come after it every minute: it is tried again next minute.
            logger.exception("contract payments of village %s not refreshed", village_id)
            counts["contract_villages_failed"] += 1
            continue
        counts["contract_receipts"] += made
        counts["contract_receipts_ambiguous"] += ambiguous
        counts["contract_states"] += stored
    return counts


# --- reading (the pages) -------------------------------------------------------------------------


@dataclass
class ScheduleRow:
    installment: Installment
    state: InstallmentState | None

    @property
    def missing(self) -> Decimal:
        if self.state is None:
            return ZERO
        return max(self.installment.amount - self.state.paid, ZERO)


@dataclass
class ContractPayments:
    state: ContractState | None
    rows: list[ScheduleRow] = field(default_factory=list)
    receipts: list[Receipt] = field(default_factory=list)

    @property
    def flagged(self) -> bool:
        return self.state is not None and self.state.flagged


def contract_payments(contract) -> ContractPayments | None:
    """What a contract's page shows of its payments, from the stored states: the schedule the
    last sweep worked on, each payment's status, and the receipts with their records. Three
    queries; None for an entry that is not a contract."""
    if contract.register != Register.CONTRACT:
        return None
    state = ContractState.objects.filter(contract=contract).first()
    if state is None:
        return ContractPayments(state=None)
    state.contract = contract
    installments = Installment.objects.filter(version_id=state.version_id).select_related("state")
    receipts = (
        Receipt.objects.filter(contract=contract)
        .select_related("line__record")
        .order_by("line__date", "line_id")
    )
    return ContractPayments(
        state=state,
        rows=[ScheduleRow(i, getattr(i, "state", None)) for i in installments],
        receipts=list(receipts),
    )


@dataclass
class FlaggedVillage:
    pk: int
    title: str
    contracts: list[ContractState] = field(default_factory=list)

    @property
    def overdue_count(self) -> int:
        return sum(c.overdue_count for c in self.contracts)

    @property
    def overdue_amount(self) -> Decimal:
        return sum((c.overdue_amount for c in self.contracts), ZERO)

    @property
    def late_count(self) -> int:
        return sum(c.late_count for c in self.contracts)


def flagged_villages(council: CouncilPage) -> list[FlaggedVillage]:
    """The villages under `council` with contracts paid late or with payments missing, from
    the stored states (one query, whatever the number of villages), in tree order."""
    states = (
        ContractState.objects.filter(council__path__startswith=council.path)
        .filter(Q(overdue_count__gt=0) | Q(late_count__gt=0))
        .select_related("contract")
        .only(
            "contract__id",
            "contract__code",
            "council__id",
            "council__title",
            "council__path",
            "overdue_count",
            "overdue_amount",
            "late_count",
            "as_of",
        )
        .select_related("council")
        .order_by("council__path", "contract__code")
    )
    villages: dict[int, FlaggedVillage] = {}
    for state in states:
        village = villages.setdefault(
            state.council_id, FlaggedVillage(state.council_id, state.council.title)
        )
        village.contracts.append(state)
    return list(villages.values())


def receipts_panel(record, user) -> dict | None:
    """The record page's panel (disclosure.registry): which of its lines pay which contract,
    each linking to the contract. One query, on published finance records only."""
    if record.kind != Kind.FINANCE or record.status != Status.PUBLISHED:
        return None
    receipts = list(
        Receipt.objects.filter(line__record=record)
        .select_related("contract")
        .only("contract__id", "contract__code", "line__position", "line__date", "line__income")
        .select_related("line")
        .order_by("line__position")
    )
    return {"contract_receipts": receipts} if receipts else None
