"""The Method of Equal Shares (MES), matching ``pabutools.rules.method_of_equal_shares``.

Definition (resolute, lexicographic tie-breaking). Every voter starts with the same budget ``b0``.
A candidate is a project with positive cost and positive total satisfaction (supported projects of
cost 0 are selected up front, unsupported projects never are). In each round, the affordability
``rho`` of a candidate ``p`` with cost ``c`` is the least ``rho`` with
``sum_i min(budget_i, rho * sat_i(p)) >= c`` over its supporters; candidates whose supporters hold
less than ``c`` in total are unaffordable. The candidate with the least ``rho`` is bought -- ties go
to the smallest project id compared as strings -- and each supporter pays
``min(budget_i, rho * sat_i(p))``. Rounds stop when nothing is affordable.

Arithmetic policy. The decisions of a run are comparisons between exact rationals: ``rho`` of two
projects, and supporters' money against a cost. :func:`run_float` evaluates the run in float64 on
voter groups and aborts (returns ``None``) as soon as any such comparison is within a relative
margin ``TOL`` (1e-9) of a tie -- far above float64's accumulated error (~1e-12 relative for 10^5
voters and a few hundred rounds), so every comparison it does decide has the same sign as in exact
arithmetic. The aborted run is redone by :func:`run_exact` in :class:`fractions.Fraction`, which is
literally pabutools' algorithm. Either way the outcome is pabutools' outcome.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from math import inf

import numpy as np

from budgets.tally.satisfaction import SatProfile

TOL = 1e-9


@dataclass
class MESRun:
    """The trace of one MES run at one initial per-voter budget.

    ``selected`` lists project indices in buying order (zero-cost supported projects first, in
    round 0), ``rho`` the affordability at which each was bought, ``payments[k]`` the per-voter
    payment of every supporter group of ``selected[k]`` (aligned with ``supporters[k]``) and
    ``budgets`` every group's remaining per-voter money at the end. Amounts are exact Fractions
    when ``exact`` is true and floats otherwise.
    """

    initial_budget: Fraction
    selected: list[int] = field(default_factory=list)
    free: list[int] = field(default_factory=list)
    rho: list[float | Fraction] = field(default_factory=list)
    supporters: list[list[int]] = field(default_factory=list)
    payments: list[np.ndarray | list[Fraction]] = field(default_factory=list)
    budgets: np.ndarray | list[Fraction] = field(default_factory=list)
    exact: bool = False
    #: Candidates whose affordability this run computed (a measure of its work).
    evaluations: int = 0
    #: How far (per voter, in currency units) the initial budget can grow above
    #: ``initial_budget`` with every decision of this run staying the same; 0 when not tracked.
    #: See :class:`_Reach` and docs/tally.md, "Skipping add1 increments".
    reach: float = 0.0
    #: The tracker that worked out ``reach`` (its money enclosures), when the run was tracked.
    tracker: _Reach | None = None


class MESEngine:
    """Precomputed structures for repeated MES runs on one satisfaction profile.

    The iterated variants run MES dozens of times with different initial budgets, so everything
    that does not depend on the budget (supporter arrays, satisfactions as floats, candidate set)
    is built once here.
    """

    def __init__(self, sp: SatProfile) -> None:
        self.sp = sp
        n_proj = len(sp.project_ids)
        n_groups = len(sp.groups)
        sup: list[list[int]] = [[] for _ in range(n_proj)]
        sat: list[list[Fraction]] = [[] for _ in range(n_proj)]
        for gi, g in enumerate(sp.groups):
            for j, s in g.sats.items():
                sup[j].append(gi)
                sat[j].append(s)
        self.sup_lists = sup
        self.sat_lists = sat
        self.weights = [g.size for g in sp.groups]
        w = np.array(self.weights, dtype=np.float64)
        totals = sp.total_sat()
        self.total_sat = totals
        # pabutools: supported zero-cost projects join the initial allocation; the candidates are
        # the supported projects of positive cost (its ``projects`` set, also used for the
        # exhaustiveness test of the add1 variants).
        self.free = [j for j in range(n_proj) if totals[j] > 0 and sp.costs[j] == 0]
        self.candidates = [j for j in range(n_proj) if totals[j] > 0 and sp.costs[j] > 0]
        self.sup_idx = [np.array(sup[j], dtype=np.int64) for j in range(n_proj)]
        self.sup_w = [w[self.sup_idx[j]] for j in range(n_proj)]
        if sp.uniform:
            self.sup_s = [
                np.full(len(sup[j]), float(sat[j][0]) if sat[j] else 1.0) for j in range(n_proj)
            ]
        else:
            self.sup_s = [
                np.array([float(s) for s in sat[j]], dtype=np.float64) for j in range(n_proj)
            ]
        self.cost_f = [float(c) for c in sp.costs]
        self.sup_total_w = [float(x.sum()) for x in self.sup_w]
        self.init_rho = {j: float(sp.costs[j] / totals[j]) for j in self.candidates}
        self.w_int = np.array(self.weights, dtype=np.int64)
        if sp.uniform:
            # One satisfaction value per project; a dense membership matrix for exact sums.
            self.sat_exact = [s[0] if s else Fraction(1) for s in sat]
            self.sat_f = [float(x) for x in self.sat_exact]
        self.n_groups = n_groups
        # overlap[q]: projects sharing a supporter group with q (whose affordability may change
        # when q is bought).
        # Supporter sets as bit rows (8 groups a byte): a pair overlaps when their AND is not 0.
        # A float matrix product did the same in 0.2 s on Lodz 2022; this takes a few ms.
        bits = np.zeros((max(n_proj, 1), n_groups), dtype=bool)
        for j in range(n_proj):
            bits[j, self.sup_idx[j]] = True
        packed = np.packbits(bits, axis=1)
        self.overlap = [
            set(np.flatnonzero(np.any(packed & packed[j], axis=1)).tolist()) for j in range(n_proj)
        ]
        self._member: np.ndarray | None = None
        #: MES runs done on this engine (the add1 loop skips increments; see ``iterate_mes``).
        self.runs = 0

    @property
    def member(self) -> np.ndarray:
        """Dense group x project support matrix, built on first use (only near ties need it)."""
        if self._member is None:
            n_proj = len(self.sp.project_ids)
            self._member = np.zeros((self.n_groups, max(n_proj, 1)), dtype=np.int64)
            for j in range(n_proj):
                self._member[self.sup_idx[j], j] = 1
        return self._member

    def run(
        self,
        initial_budget: Fraction,
        exact: bool = False,
        track: float = 0.0,
        width: float = 0.0,
    ) -> MESRun:
        """One MES run with ``initial_budget`` per voter (float fast path, exact fallback).

        ``track`` > 0 also works out ``MESRun.reach``, up to ``width``, if it is at least
        ``track`` (uniform measures, float path only); a smaller reach is reported as 0.
        """
        if not exact:
            result = self.run_float(initial_budget, track=track, width=width)
            if result is not None:
                return result
        return self.run_exact(initial_budget)

    def run_float(
        self, initial_budget: Fraction, track: float = 0.0, width: float = 0.0
    ) -> MESRun | None:
        """Float64 run with exact prices; ``None`` when a decision is too close to call.

        With a uniform measure (``cost``, ``cardinality``) every supporter of a bought project who
        can afford it pays the same price ``t``, the others pay everything, so a voter's exact
        money is ``0`` once she paid everything and otherwise ``b0 - sum of the prices of the
        bought projects she supports``. We keep those exact prices, which lets us settle near
        ties and near-affordability exactly with a handful of Fraction operations; only a
        supporter whose money is within ``TOL`` of a price (an ambiguous poor/rich split) makes us
        give up. Non-uniform measures give up on any near tie instead.
        """
        n_groups = len(self.weights)
        b0 = Fraction(initial_budget)
        budget = np.full(n_groups, float(b0))
        exhausted = np.zeros(n_groups, dtype=bool)
        remaining = set(self.candidates)
        stale = dict(self.init_rho)
        run = MESRun(initial_budget, free=list(self.free))
        reach = _Reach(self, float(b0), track, width) if track > 0 and self.sp.uniform else None
        cost_f, sup_idx, sup_w, sup_s = self.cost_f, self.sup_idx, self.sup_w, self.sup_s
        ids = self.sp.project_ids
        uniform = self.sp.uniform
        # Per bought project: (project, exact-money groups, their weight, rich weight); the exact
        # prices are only worked out (in order) when a near tie needs them.
        rounds: list[tuple[int, np.ndarray, int, int]] = []
        prices: list[Fraction] = []
        # Purchases whose poor/rich split is not worked out yet: (project, budgets before, price).
        # Only exact computations need the split, so most runs never do it.
        pending: list[tuple[int, np.ndarray, float]] = []

        def settle() -> bool:
            # Work out the pending splits in order; False if one is ambiguous.
            for q, bb_q, t_q in pending:
                sup = sup_idx[q]
                live = ~exhausted[sup]
                if np.any(live & (np.abs(bb_q - t_q) <= TOL * t_q)):
                    return False
                poor = bb_q < t_q
                rounds.append((q, sup[poor & live], 0, int(self.w_int[sup[~poor]].sum())))
                exhausted[sup[poor]] = True
            pending.clear()
            return True

        def money_of(sel: np.ndarray, upto: int) -> tuple[Fraction, int]:
            # Exact money of the (not exhausted) groups ``sel`` after ``upto`` purchases.
            w_sel = self.w_int[sel]
            weight = int(w_sel.sum())
            money = b0 * weight
            if upto and weight:
                counts = (w_sel @ self.member[sel]).tolist()
                for r in range(upto):
                    k = counts[rounds[r][0]]
                    if k:
                        money -= price(r) * k
            return money, weight

        def price(r: int) -> Fraction:
            while len(prices) <= r:
                q, sel, _, rich = rounds[len(prices)]
                money, _ = money_of(sel, len(prices))
                prices.append((self.sp.costs[q] - money) / rich)
            return prices[r]

        def split(j: int, rho: float) -> tuple[np.ndarray, np.ndarray, int] | None:
            # Poor/rich split of j's supporters at price rho * sat, or None if ambiguous.
            sup = sup_idx[j]
            bb = budget[sup]
            t_f = rho * self.sat_f[j]
            live = ~exhausted[sup]
            if np.any(live & (np.abs(bb - t_f) <= TOL * t_f)):
                return None
            poor = bb < t_f
            return poor, sup[poor & live], int(self.w_int[sup[~poor]].sum())

        def exact_rho(j: int, rho: float) -> Fraction | None:
            parts = split(j, rho)
            if parts is None:
                return None
            _, sel, rich = parts
            money, _ = money_of(sel, len(rounds))
            return (self.sp.costs[j] - money) / rich / self.sat_exact[j]

        fresh: set[int] = set()
        while True:
            best = inf
            found: list[tuple[float, int, np.ndarray | None]] = []
            for j in sorted(remaining, key=stale.__getitem__):
                # Affordability never decreases, so a stale value above the best is final (this
                # also postpones pabutools' removal of unaffordable projects, which never
                # changes which project is bought).
                if stale[j] > best * (1 + TOL):
                    break
                if j in fresh:
                    # None of j's supporters paid since it was evaluated: same value.
                    rho = stale[j]
                    best = min(best, rho)
                    found.append((rho, j, None))
                    continue
                c = cost_f[j]
                bb = budget[sup_idx[j]]
                run.evaluations += 1
                if uniform:
                    t0 = c / self.sup_total_w[j]
                    if bb.min() >= t0 * (1 + TOL):
                        # Everybody pays the equal share: affordable with a margin > TOL.
                        rho = t0 / self.sat_f[j]
                        stale[j] = rho
                        fresh.add(j)
                        if reach is not None and reach.on:
                            reach.equal_share(j, t0)
                        best = min(best, rho)
                        found.append((rho, j, bb))
                        continue
                total = float(np.dot(sup_w[j], bb))
                if total <= c * (1 + TOL):
                    if total < c * (1 - TOL):
                        remaining.discard(j)
                        if reach is not None and reach.on:
                            reach.unaffordable(j, bb, total)
                        continue
                    if not uniform or not settle():
                        return None
                    live = sup_idx[j][~exhausted[sup_idx[j]]]
                    if money_of(live, len(rounds))[0] < self.sp.costs[j]:
                        remaining.discard(j)
                        if reach is not None and reach.on:
                            reach.unaffordable(j, bb, total)
                        continue
                if uniform:
                    t = _price_uniform(c, bb, sup_w[j], self.sup_total_w[j])
                    rho = t / self.sat_f[j]
                    if reach is not None and reach.on:
                        reach.candidate(j, bb, t)
                else:
                    rho = _affordability(c, bb, sup_w[j], sup_s[j])
                stale[j] = rho
                fresh.add(j)
                if rho < best:
                    best = rho
                found.append((rho, j, bb))
            if not found:
                break
            near = [f for f in found if f[0] <= best * (1 + TOL)]
            if uniform:
                if len(near) > 1:
                    if not settle():
                        return None
                    exact: list[tuple[Fraction, str, int]] = []
                    for rho, j, _ in near:
                        rho_x = exact_rho(j, rho)
                        if rho_x is None:
                            return None
                        exact.append((rho_x, ids[j], j))
                    pick = min(exact)[2]
                    near = [f for f in near if f[1] == pick]
                rho, j, _ = near[0]
                bb = budget[sup_idx[j]]
                t_f = rho * self.sat_f[j]
                pay = np.minimum(bb, t_f)
                pending.append((j, bb, t_f))
                run.rho.append(rho)
                if reach is not None and reach.on:
                    reach.bought(j, bb, t_f, remaining)
            else:
                if len(near) > 1:
                    return None
                rho, j, _ = near[0]
                bb = budget[sup_idx[j]]
                pay = np.minimum(bb, rho * sup_s[j])
                run.rho.append(rho)
            budget[sup_idx[j]] = np.maximum(bb - pay, 0.0)
            fresh -= self.overlap[j]
            remaining.discard(j)
            run.selected.append(j)
            run.supporters.append(self.sup_lists[j])
            run.payments.append(pay)
        run.budgets = budget
        if reach is not None:
            run.reach = reach.value()
            run.tracker = reach
        return run

    def run_exact(self, initial_budget: Fraction) -> MESRun:
        """Exact run in Fractions: pabutools' inner loop, on voter groups."""
        weights = self.weights
        budget = [Fraction(initial_budget)] * len(weights)
        remaining = set(self.candidates)
        stale: dict[int, Fraction] = {
            j: self.sp.costs[j] / self.total_sat[j] for j in self.candidates
        }
        run = MESRun(initial_budget, free=list(self.free), exact=True)
        costs = self.sp.costs
        while True:
            best: Fraction | None = None
            tied: list[int] = []
            for j in sorted(remaining, key=stale.__getitem__):
                sup, sat = self.sup_lists[j], self.sat_lists[j]
                if sum(budget[g] * weights[g] for g in sup) < costs[j]:
                    remaining.discard(j)
                    continue
                if best is not None and stale[j] > best:
                    break
                rho = _affordability_exact(
                    costs[j],
                    [budget[g] for g in sup],
                    [weights[g] for g in sup],
                    sat,
                    self.total_sat[j],
                )
                stale[j] = rho
                if best is None or rho < best:
                    best, tied = rho, [j]
                elif rho == best:
                    tied.append(j)
            if best is None:
                break
            ids = self.sp.project_ids
            j = min(tied, key=lambda k: ids[k])
            sup, sat = self.sup_lists[j], self.sat_lists[j]
            pays = []
            for g, s in zip(sup, sat, strict=False):
                pay = min(budget[g], best * s)
                budget[g] -= pay
                pays.append(pay)
            remaining.discard(j)
            run.selected.append(j)
            run.rho.append(best)
            run.supporters.append(sup)
            run.payments.append(pays)
        run.budgets = budget
        return run


U = 2.0**-53  # unit roundoff of float64


def _gamma(n: int) -> float:
    """Higham's gamma_n = n u / (1 - n u): relative error bound of an n-term dot product."""
    return n * U / (1 - n * U)


class _Reach:
    """How far a uniform-measure MES run's purchases stay the same as the per-voter budget grows.

    The run at per-voter budget ``b0`` buys projects in some order. For a budget ``b0 + x`` with
    ``0 <= x <= width`` this object proves, or fails to prove, that MES buys the same projects in
    the same order. It follows the run and keeps, for every voter group, an *enclosure* of its
    money at ``b0 + x`` along that purchase order:

        money(x) = centre + slope * x  +/-  (err + rad * x)

    ``centre`` is the engine's float money at ``b0``; ``slope`` is how the money moves with the
    budget if every supporter stayed on the same side of every price (rich: pays the price;
    poor: pays everything); ``rad`` covers the supporters who may cross a price inside the
    width, and ``err`` bounds float rounding. At the start money is ``b0 + x`` (slope 1).

    * ``bought``: supporters of the bought project are split into certainly rich, certainly
      poor and uncertain over the whole width (checked at both ends: every bound here is
      linear in ``x``). With ``P``/``R`` the poor/rich sides at ``b0``, the exact price is
      ``t = (cost - money of P + X) / weight of R`` where ``0 <= X <=`` the uncertain
      supporters' weight times their depth on the wrong side, so ``t`` stays within a linear
      band around the nominal price; if the uncertain weight reaches the rich weight we give up.
      The winner must stay affordable, and every other remaining candidate's affordability must
      stay above the winner's over the width.
    * Candidates' affordabilities are bounded from below by lines: for any set ``P`` of a
      candidate's supporters, ``(cost - money of P) / (weight not in P)`` is at most the exact
      price, since ``cost = sum min(money, price) <= money of P + weight not in P * price``;
      with the upper money bound this is a line in ``x``. Money only decreases over the rounds
      at any fixed budget, so a line from an earlier round stays a lower bound.
    * ``unaffordable``: a dropped candidate's supporters' money stays below its cost over the
      width (upper bound); it stays dropped since money only decreases.

    MES stops when every remaining candidate is unaffordable, which the last round records. So
    every budget in ``[b0, b0 + reach]`` gives the same purchases, selection and spending.

    Floats: every computed value carries a proven bound on its absolute error, built from the
    unit roundoff ``U`` and the standard bound ``gamma_n * sum |terms|`` for a dot product of
    ``n`` terms (Higham, *Accuracy and Stability of Numerical Algorithms*, 2002, ch. 3). A
    condition is taken to hold only if it holds after subtracting its bound. The bounds are
    computed for every run from its own magnitudes, not a fixed tolerance.
    """

    def __init__(self, engine: MESEngine, b0: float, need: float, width: float) -> None:
        self.e = engine
        # A reach below ``need`` (one increment) skips nothing: stop as soon as it is.
        self.need = need
        self.width = width
        n_proj = len(engine.sp.project_ids)
        n_groups = len(engine.weights)
        self.b0 = b0
        self.slope = np.ones(n_groups)
        self.dead = np.zeros(n_groups, dtype=bool)
        self.err = np.full(n_groups, U * b0)
        self.rad = np.zeros(n_groups)
        self.reach = width
        self.on = True
        # Lower bound lines of each candidate's affordability (rho): (v - ev) + (s - es) * x.
        self.line_v = np.full(n_proj, inf)
        self.line_s = np.zeros(n_proj)
        self.line_ev = np.zeros(n_proj)
        self.line_es = np.zeros(n_proj)
        for j, rho in engine.init_rho.items():
            # Whatever the money, a price is at least cost / total weight.
            self.line_v[j] = rho
            self.line_ev[j] = 2 * U * rho

    def value(self) -> float:
        # The last divisions and comparisons add a few roundings: shave 1e-12 (> 100 u) off.
        return self.reach * (1 - 1e-12) if self.on else 0.0

    def _stop(self) -> None:
        self.reach = 0.0
        self.on = False

    def _positive(self, d0, d1) -> None:  # noqa: ANN001
        """Each ``d0 + d1 * x`` (already net of its error bound) must stay > 0 on [0, reach]."""
        d0 = np.atleast_1d(d0)
        d1 = np.atleast_1d(d1)
        if not len(d0):
            return
        if not bool(np.all(d0 > 0)):
            self._stop()
            return
        falling = d1 < 0
        if falling.any():
            self.reach = min(self.reach, float(np.min(d0[falling] / -d1[falling])))
            if not self.reach >= self.need:
                self._stop()

    def _line(self, j: int, bb: np.ndarray, poor: np.ndarray) -> tuple[float, float, float, float]:
        """Lower bound of j's price over the width from the split ``poor``: v, s, ev, es."""
        e = self.e
        sup = e.sup_idx[j]
        w = e.sup_w[j]
        c = e.cost_f[j]
        w_poor = float(np.dot(w, poor))
        w_rich = e.sup_total_w[j] - w_poor  # integer sums below 2**53: exact
        if not w_rich > 0:
            return 0.0, 0.0, inf, inf
        if not w_poor:
            v = c / w_rich
            return v, 0.0, 2 * U * v, 0.0
        wp = w * poor
        g = _gamma(len(w) + 2)
        paid = float(np.dot(wp, bb))
        slope = self.slope[sup]
        v = (c - paid) / w_rich
        s = -float(np.dot(wp, slope)) / w_rich
        ev = (U * c + g * paid + float(np.dot(wp, self.err[sup]))) / w_rich + 3 * U * abs(v)
        es = (g * float(np.dot(wp, np.abs(slope))) + float(np.dot(wp, self.rad[sup]))) / w_rich
        return v, s, ev, es + 2 * U * abs(s)

    def _set_line(self, j: int, v: float, s: float, ev: float, es: float) -> None:
        sat = self.e.sat_f[j]
        self.line_v[j] = v / sat
        self.line_s[j] = s / sat
        self.line_ev[j] = ev / sat + 2 * U * abs(v / sat)
        self.line_es[j] = es / sat + 2 * U * abs(s / sat)

    def equal_share(self, j: int, t0: float) -> None:
        """``j`` evaluated with every supporter paying ``t0`` = cost / weight."""
        self._set_line(j, t0, 0.0, 2 * U * t0, 0.0)

    def candidate(self, j: int, bb: np.ndarray, t: float) -> None:
        """``j`` evaluated at price ``t`` with its supporters' money ``bb``."""
        self._set_line(j, *self._line(j, bb, bb < t))

    def unaffordable(self, j: int, bb: np.ndarray, total: float) -> None:
        """``j`` dropped: its supporters' money ``total`` is below its cost."""
        e = self.e
        sup = e.sup_idx[j]
        w = e.sup_w[j]
        g = _gamma(len(w) + 2)
        slope = self.slope[sup]
        c = e.cost_f[j]
        e0 = U * c + g * total + float(np.dot(w, self.err[sup])) + U * abs(c - total)
        e1 = g * float(np.dot(w, np.abs(slope))) + float(np.dot(w, self.rad[sup]))
        self._positive(c - total - e0, -float(np.dot(w, slope)) - e1)

    def bought(self, j: int, bb: np.ndarray, t: float, remaining: set[int]) -> None:
        """``j`` bought at per-voter price ``t`` (poor supporters pay all their money ``bb``).

        The wider the width, the more supporters are uncertain and the looser the price band:
        if the conditions fail at the current width they are retried at half of it, down to one
        increment, rather than given up (every earlier condition holds on a narrower width too).
        """
        e = self.e
        sup = e.sup_idx[j]
        w = e.sup_w[j]
        poor0 = bb < t
        v, a, ev, ea = self._line(j, bb, poor0)
        if not ev < inf:
            self._stop()
            return
        ev += abs(t - v)  # the engine charged t; v is the split's own formula
        slope = self.slope[sup]
        err, rad, dead = self.err[sup], self.rad[sup], self.dead[sup]
        w_rich0 = e.sup_total_w[j] - float(np.dot(w, poor0))
        # gap = money - price, nominally; positive for the rich side.
        gap0 = bb - v
        gap1 = slope - a
        side = np.where(poor0, -1.0, 1.0)
        # Poor side's own money deviation (dead groups have none).
        p_err = float(np.dot(w * poor0, err))
        p_rad = float(np.dot(w * poor0, rad))
        half0_base = err + U * (np.abs(bb) + abs(v))
        half1_base = rad + U * (np.abs(slope) + abs(a))
        # The winner stays affordable: its supporters' least money covers the cost.
        g = _gamma(len(w) + 2)
        money0 = float(np.dot(w, bb))
        low0 = money0 - g * money0 - float(np.dot(w, err)) - e.cost_f[j] * (1 + 2 * U)
        low1 = float(np.dot(w, slope)) - float(np.dot(w, rad)) - g * float(np.dot(w, np.abs(slope)))
        sat = e.sat_f[j]
        others = np.fromiter((k for k in remaining if k != j), dtype=np.int64)
        lv = self.line_v[others]
        line0 = lv - self.line_ev[others] - U * np.abs(lv)
        line1 = self.line_s[others] - self.line_es[others]
        width = self.reach
        while True:
            found = self._band(
                width,
                w,
                w_rich0,
                dead,
                side,
                gap0,
                gap1,
                err,
                rad,
                ev,
                ea,
                p_err,
                p_rad,
                half0_base,
                half1_base,
            )
            if found is not None:
                uncertain, d_err, d_rad = found
                # Every other remaining candidate's lower line above the winner's upper price.
                top_v = (v + d_err) / sat * (1 + 2 * U)
                top_s = (a + d_rad) / sat + 2 * U * abs(a / sat)
                d0 = np.append(line0 - top_v, low0)
                d1 = np.append(line1 - top_s, low1)
                if bool(np.all(d0 > 0)):
                    falling = d1 < 0
                    limit = float(np.min(d0[falling] / -d1[falling])) if falling.any() else inf
                    if min(width, limit) >= self.need:
                        self.reach = min(width, limit)
                        break
            width /= 2
            if width < self.need:
                self._stop()
                return
        # New money. Certainly rich: pay the price. Certainly poor: exactly nothing left.
        # Uncertain: the engine's side, with their depth added to the band.
        rich = ~poor0
        grow = np.where(
            uncertain, np.where(rich, np.maximum(-gap1, 0.0), np.maximum(gap1, 0.0)), 0.0
        )
        new_slope = np.where(rich, slope - a, 0.0)
        new_err = err + d_err + U * self.b0
        new_rad = rad + d_rad + grow + U * (np.abs(slope) + abs(a))
        gone = poor0 & ~uncertain
        new_err[gone] = 0.0
        new_rad[gone] = 0.0
        self.slope[sup] = new_slope
        self.err[sup] = new_err
        self.rad[sup] = new_rad
        self.dead[sup] = dead | gone

    @staticmethod
    def _band(  # noqa: PLR0913 - the quantities of one purchase, computed once by the caller
        width, w, w_rich0, dead, side, gap0, gap1, err, rad, ev, ea, p_err, p_rad, half0, half1
    ):  # noqa: ANN001, ANN205
        """Uncertain supporters over ``width`` and the price band (constant, per unit width).

        The uncertain set and the band feed each other (a wider band, more uncertain
        supporters); start from none and grow to the fixed point. ``None`` if the uncertain
        weight reaches the rich weight or it does not settle in four passes.
        """
        uncertain = np.zeros(len(w), dtype=bool)
        for _ in range(4):
            w_unc = float(np.dot(w, uncertain))
            if not w_rich0 - w_unc > 0:
                return None
            # Depth on the wrong side, for uncertain supporters: (-side*gap)+ + own deviation.
            depth0 = np.where(uncertain, np.maximum(-side * gap0, 0.0) + err, 0.0)
            depth1 = np.where(uncertain, np.maximum(-side * gap1, 0.0) + rad, 0.0)
            d_err = ev + (p_err + float(np.dot(w, depth0))) / (w_rich0 - w_unc)
            d_rad = ea + (p_rad + float(np.dot(w, depth1))) / (w_rich0 - w_unc)
            # Certain: on its side, net of every deviation, at both ends of the width.
            lo0 = side * gap0 - (half0 + d_err)
            lo1 = lo0 + (side * gap1 - (half1 + d_rad)) * width
            now = ~dead & ~((lo0 > 0) & (lo1 > 0))
            if np.array_equal(now, uncertain):
                return uncertain, d_err, d_rad
            uncertain |= now
        return None


def _price_uniform(cost: float, bb: np.ndarray, w: np.ndarray, total_w: float) -> float:
    """Per-voter price t with sum(w * min(bb, t)) = cost when all supporters value it equally.

    Same poor/rich fixed point as :func:`_affordability`, specialised to a common satisfaction
    (rho = t / sat) with as few numpy calls as possible: this is the hot loop of the add1 rules.
    The poor set only grows, so it is unchanged exactly when its weight is (integer weights:
    their float sums are exact), which saves counting it.
    """
    t = cost / total_w
    w_poor = 0.0
    wb: np.ndarray | None = None
    for _ in range(64):
        poor = (bb < t).astype(np.float64)
        wp = float(np.dot(w, poor))
        if wp == w_poor:
            return t
        rich_w = total_w - wp
        if rich_w <= 0:
            break
        if wb is None:
            wb = w * bb
        t = (cost - float(np.dot(wb, poor))) / rich_w
        w_poor = wp
    return _affordability_sorted(cost, bb, w, np.ones(len(bb)))


def _affordability(cost: float, bb: np.ndarray, w: np.ndarray, s: np.ndarray) -> float:
    """Least rho with sum(w * min(bb, rho * s)) >= cost (the project is known to be affordable).

    The poor/rich fixed point (as pabutools' ``affordability_poor_rich``): start with everybody
    paying rho * s, move those who cannot afford it to paying everything, repeat. The poor set only
    grows, so this ends in a few passes and avoids sorting thousands of budgets.
    """
    ws = w * s
    wb = w * bb
    poor = np.zeros(len(bb), dtype=bool)
    paid = 0.0
    sat = float(ws.sum())
    for _ in range(8):
        rho = (cost - paid) / sat
        new_poor = ~poor & (bb < rho * s)
        if not new_poor.any():
            return rho
        poor |= new_poor
        paid += float(wb[new_poor].sum())
        sat -= float(ws[new_poor].sum())
        if sat <= 0:
            break
    return _affordability_sorted(cost, bb, w, s)


def _affordability_sorted(cost: float, bb: np.ndarray, w: np.ndarray, s: np.ndarray) -> float:
    """Same as :func:`_affordability` by a sort of the budget/sat ratios (pabutools' inner loop)."""
    ratio = bb / s
    order = np.argsort(ratio, kind="stable")
    r = ratio[order]
    wb = w[order] * bb[order]
    ws = w[order] * s[order]
    paid_before = np.cumsum(wb) - wb
    sat_from = ws[::-1].cumsum()[::-1]
    rho = (cost - paid_before) / sat_from
    ok = rho <= r
    k = int(np.argmax(ok)) if ok.any() else len(r) - 1
    return float(rho[k])


def _affordability_exact(
    cost: Fraction, bb: list[Fraction], w: list[int], s: list[Fraction], total_sat: Fraction
) -> Fraction:
    """pabutools' loop: supporters by budget/sat, first factor that the next supporter can pay."""
    order = sorted(range(len(bb)), key=lambda i: bb[i] / s[i])
    paid = Fraction(0)
    denominator = total_sat
    for i in order:
        factor = (cost - paid) / denominator
        if factor * s[i] <= bb[i]:
            return factor
        paid += bb[i] * w[i]
        denominator -= w[i] * s[i]
    raise AssertionError("affordability called on an unaffordable project")
