"""The law's counting rules as data, and the pure arithmetic that applies them. No Django import.

Chinese legal usage (《民法典》第一千二百五十九条): "以上、以下、以内、届满，包括本数；不满、超过、
以外，不包括本数". So 三分之二以上 means *at least* two thirds, and 过半数 (more than half) means
strictly more than one half. Every comparison is exact integer arithmetic with `Fraction`; a float
would decide a 6-of-9 quorum by rounding. See docs/sessions.md for the articles encoded here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from enum import StrEnum
from fractions import Fraction

RULE_VERSION = 1


class Base(StrEnum):
    """What a decision threshold is a fraction of."""

    PRESENT = "present"  # 到会人员: those present (abstentions count against)
    MEMBERS = "members"  # 全体组成人员: everyone on the roster


class Outcome(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    NO_QUORUM = "no_quorum"


@dataclass(frozen=True)
class Threshold:
    """`numerator/denominator`, reached with "at least" (以上) or "more than" (过半数, 超过)."""

    numerator: int
    denominator: int
    strict: bool  # True: more than the fraction; False: at least the fraction

    def __post_init__(self):
        if self.denominator <= 0 or not 0 <= self.numerator <= self.denominator:
            raise ValueError("a threshold is a fraction between 0 and 1")

    @property
    def fraction(self) -> Fraction:
        return Fraction(self.numerator, self.denominator)

    def reached(self, count: int, total: int) -> bool:
        """Whether `count` out of `total` reaches the threshold; never when `total` is 0."""
        if total <= 0 or count < 0:
            return False
        share = Fraction(count, total)
        return share > self.fraction if self.strict else share >= self.fraction

    def needed(self, total: int) -> int:
        """The smallest count out of `total` that reaches the threshold (total + 1 if none)."""
        if total <= 0:
            return 1
        exact = self.fraction * total  # a Fraction: no rounding anywhere
        floor = exact.numerator // exact.denominator
        if self.strict:
            return floor + 1
        return floor if floor == exact else floor + 1


MORE_THAN_HALF = Threshold(1, 2, strict=True)  # 过半数
AT_LEAST_TWO_THIRDS = Threshold(2, 3, strict=False)  # 三分之二以上


@dataclass(frozen=True)
class Rule:
    """How a session is quorate and how a motion passes. Stored as a frozen copy with each vote."""

    quorum: Threshold
    decision: Threshold
    decision_base: Base = Base.PRESENT
    proxies_count: bool = True  # a proxy given counts as present for quorum and votes by proxy
    max_proxies_per_holder: int = 1
    source: str = ""  # the article the rule comes from, for the minutes

    def to_dict(self) -> dict:
        data = asdict(self)
        data["decision_base"] = str(self.decision_base)
        data["version"] = RULE_VERSION
        return data

    @classmethod
    def from_dict(cls, data: dict) -> Rule:
        return cls(
            quorum=Threshold(**data["quorum"]),
            decision=Threshold(**data["decision"]),
            decision_base=Base(data.get("decision_base", Base.PRESENT)),
            proxies_count=bool(data.get("proxies_count", True)),
            max_proxies_per_holder=int(data.get("max_proxies_per_holder", 1)),
            source=data.get("source", ""),
        )

    def with_decision(self, decision: Threshold, base: Base) -> Rule:
        return replace(self, decision=decision, decision_base=base)


@dataclass(frozen=True)
class Count:
    """The numbers of one vote. `present` counts proxy givers when the rule lets proxies count."""

    entitled: int
    present: int
    yes: int = 0
    no: int = 0
    abstain: int = 0

    @property
    def cast(self) -> int:
        return self.yes + self.no + self.abstain


def present_for_quorum(rule: Rule, *, attending: int, proxies: int) -> int:
    return attending + (proxies if rule.proxies_count else 0)


def quorum_met(rule: Rule, *, entitled: int, present: int) -> bool:
    return rule.quorum.reached(present, entitled)


def decision_base_size(rule: Rule, count: Count) -> int:
    return count.entitled if rule.decision_base == Base.MEMBERS else count.present


def outcome(rule: Rule, count: Count) -> Outcome:
    """No quorum, passed or failed. Abstentions and non-votes are not "for": they count against."""
    if not quorum_met(rule, entitled=count.entitled, present=count.present):
        return Outcome.NO_QUORUM
    if rule.decision.reached(count.yes, decision_base_size(rule, count)):
        return Outcome.PASSED
    return Outcome.FAILED


def yes_needed(rule: Rule, count: Count) -> int:
    return rule.decision.needed(decision_base_size(rule, count))
