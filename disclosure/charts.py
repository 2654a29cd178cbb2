"""Finance charts drawn on the server as small, accessible SVG (no chart library, no script).

Each chart is an <svg role="img"> with a <title> and a <desc> that states the totals in words,
and comes with a plain data table (the template puts it next to the chart). Bars are drawn
horizontally, one row per month, account or project, so the chart stays readable on a 360 px
phone however many rows it has. Colours are SVG presentation attributes (fill=, stroke=), never
style="" (the CSP allows styles from files only); all colours reach 4.5:1 on white.

The numbers come from selectors.finance_chart_data(), which sums in the database.
"""

import datetime
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

WIDTH = 360
LABEL_WIDTH = 92
VALUE_WIDTH = 96
BAR = 14
GAP = 10
FONT = 13
INK = "#1d1d1d"
MUTED = "#595959"
INCOME = "#1b6e3a"  # 6.3:1 on white
EXPENSE = "#a4262c"  # 6.9:1 on white
LINE = "#1f4e79"  # 8.6:1 on white


def money(value: Decimal) -> str:
    return f"{Decimal(value):,.2f}"


@dataclass
class Chart:
    """One chart: its SVG and the same numbers as a table."""

    slug: str
    title: str
    description: str
    svg: SafeString
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.rows


def _svg(slug: str, title: str, description: str, height: int, body: list[str]) -> SafeString:
    return mark_safe(  # noqa: S308 - every text below is escaped; numbers are formatted
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {WIDTH} {height}" '
        f'role="img" aria-labelledby="{slug}-title {slug}-desc" font-size="{FONT}" '
        f'font-family="sans-serif">'
        f'<title id="{slug}-title">{escape(title)}</title>'
        f'<desc id="{slug}-desc">{escape(description)}</desc>' + "".join(body) + "</svg>"
    )


def _text(x, y, text, *, anchor="start", fill=INK, weight=None) -> str:
    bold = f' font-weight="{weight}"' if weight else ""
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" fill="{fill}"{bold}>'
        f"{escape(text)}</text>"
    )


def _legend(y: int, series: list[tuple[str, str]]) -> list[str]:
    parts, x = [], 0
    for label, colour in series:
        parts.append(f'<rect x="{x}" y="{y}" width="{BAR}" height="{BAR}" fill="{colour}"/>')
        parts.append(_text(x + BAR + 6, y + BAR - 2, label))
        x += BAR + 12 + len(label) * FONT
    return parts


def hbar_chart(
    slug: str,
    title: str,
    rows: list[tuple[str, list[Decimal]]],
    series: list[tuple[str, str]],
    description: str,
) -> SafeString:
    """Horizontal bars: one group per row, one bar per series, the value written at its end."""
    top = BAR + 14 if len(series) > 1 else 0
    group = len(series) * BAR + (len(series) - 1) * 2 + GAP
    height = top + max(len(rows), 1) * group + 4
    largest = max((v for _label, values in rows for v in values if v > 0), default=Decimal(1))
    span = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    body = _legend(0, series) if len(series) > 1 else []
    for index, (label, values) in enumerate(rows):
        y0 = top + index * group
        shown = label if len(label) <= 7 else label[:6] + "…"
        body.append(_text(LABEL_WIDTH - 6, y0 + BAR * len(series) / 2 + 5, shown, anchor="end"))
        for offset, value in enumerate(values):
            y = y0 + offset * (BAR + 2)
            length = float(max(value, 0) / largest) * span if largest else 0
            colour = series[offset][1]
            body.append(
                f'<rect x="{LABEL_WIDTH}" y="{y}" width="{length:.1f}" height="{BAR}" '
                f'fill="{colour}"><title>{escape(label)} · {escape(series[offset][0])}: '
                f"{money(value)}</title></rect>"
            )
            body.append(_text(LABEL_WIDTH + length + 4, y + BAR - 2, money(value), fill=MUTED))
    return _svg(slug, title, description, height, body)


def line_chart(
    slug: str, title: str, points: list[tuple[str, Decimal]], description: str
) -> SafeString:
    """A line through the points, a zero line, the first, last, lowest and highest labelled."""
    height, left, right, top, bottom = 220, 8, WIDTH - 8, 24, 190
    values = [value for _label, value in points] or [Decimal(0)]
    low, high = min(min(values), Decimal(0)), max(max(values), Decimal(0))
    spread = (high - low) or Decimal(1)

    def y_of(value):
        return bottom - float((value - low) / spread) * (bottom - top)

    def x_of(index):
        return left + (right - left) * (index / max(len(points) - 1, 1))

    body = [
        f'<line x1="{left}" x2="{right}" y1="{y_of(Decimal(0)):.1f}" y2="{y_of(Decimal(0)):.1f}" '
        f'stroke="{MUTED}" stroke-width="1" stroke-dasharray="4 3"/>',
        _text(right, y_of(Decimal(0)) - 4, "0", anchor="end", fill=MUTED),
    ]
    if points:
        coords = " ".join(f"{x_of(i):.1f},{y_of(v):.1f}" for i, (_l, v) in enumerate(points))
        body.append(f'<polyline points="{coords}" fill="none" stroke="{LINE}" stroke-width="3"/>')
        for index, (label, value) in enumerate(points):
            body.append(
                f'<circle cx="{x_of(index):.1f}" cy="{y_of(value):.1f}" r="3.5" fill="{LINE}">'
                f"<title>{escape(label)}: {money(value)}</title></circle>"
            )
        first_label, first_value = points[0]
        last_label, last_value = points[-1]
        body.append(_text(left, height - 8, first_label, fill=MUTED))
        body.append(_text(right, height - 8, last_label, anchor="end", fill=MUTED))
        body.append(_text(right, 14, money(last_value), anchor="end", fill=LINE, weight="700"))
        if len(points) > 1:
            body.append(_text(left, 14, money(first_value), fill=MUTED))
    return _svg(slug, title, description, height, body)


def month_label(month: datetime.date) -> str:
    return f"{month.year}-{month.month:02d}"


def finance_charts(data: dict) -> list[Chart]:
    """The four finance charts from selectors.finance_chart_data()."""
    months = data["months"]
    income_total = sum((m["income"] for m in months), Decimal(0))
    expense_total = sum((m["expense"] for m in months), Decimal(0))
    income_label, expense_label = _("Income"), _("Expense")
    charts = []

    month_rows = [(month_label(m["month"]), [m["income"], m["expense"]]) for m in months]
    title = _("Income and expense by month")
    description = _(
        "%(n)s months. Total income %(income)s yuan, total expense %(expense)s yuan."
    ) % {"n": len(months), "income": money(income_total), "expense": money(expense_total)}
    charts.append(
        Chart(
            slug="chart-months",
            title=title,
            description=description,
            svg=hbar_chart(
                "chart-months",
                title,
                month_rows,
                [(income_label, INCOME), (expense_label, EXPENSE)],
                description,
            ),
            columns=[_("Month"), income_label, expense_label],
            rows=[[label, money(v[0]), money(v[1])] for label, v in month_rows],
        )
    )

    for slug, title, items, column in (
        (
            "chart-accounts",
            _("Spending by account (会计科目)"),
            data["accounts"],
            pgettext("bookkeeping", "Account"),
        ),
        ("chart-projects", _("Spending by micro-project"), data["projects"], _("Micro-project")),
    ):
        total = sum((value for _label, value in items), Decimal(0))
        description = _("%(n)s rows, %(total)s yuan in all.") % {
            "n": len(items),
            "total": money(total),
        }
        charts.append(
            Chart(
                slug=slug,
                title=title,
                description=description,
                svg=hbar_chart(
                    slug,
                    title,
                    [(label, [value]) for label, value in items],
                    [(expense_label, EXPENSE)],
                    description,
                ),
                columns=[column, expense_label],
                rows=[[label, money(value)] for label, value in items],
            )
        )

    balance = []
    running = data["opening"]
    for m in months:
        running += m["income"] - m["expense"]
        balance.append((month_label(m["month"]), running))
    description = _("Starting from %(opening)s yuan, ending at %(closing)s yuan.") % {
        "opening": money(data["opening"]),
        "closing": money(running),
    }
    charts.append(
        Chart(
            slug="chart-balance",
            title=_("Balance over time (income minus expense, cumulative)"),
            description=description,
            svg=line_chart("chart-balance", _("Balance over time"), balance, description),
            columns=[_("Month"), _("Balance at the end of the month")],
            rows=[[label, money(value)] for label, value in balance],
        )
    )
    return charts
