"""Trend charts of governance figures: small inline SVG drawn on the server (no script).

One bar per period, oldest on the left; a period without a figure has no bar and a dash. A
dashed line marks the top of the scale (100 % for a percentage, 5 for a rating, else the largest
figure) with its value written above it; the baseline is 0, the first and the last period are
named under it. Each chart is an <svg role="img"> with a <title> and a <desc> that says every
period's figure in words, and every bar carries its own <title>; the page puts the same
numbers in a table beside it (disclosure/charts.py, cases.figures.closure_chart). Colours are SVG
presentation attributes, never style="" (the CSP allows styles from files only). The light
palette's text reaches 4.5:1 on white, its bars and lines 3:1; the dark one (the big screen) the
same on its near-black panels.
"""

from dataclasses import dataclass
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe


@dataclass(frozen=True)
class Palette:
    bar: str
    last: str
    ink: str
    muted: str
    base: str


LIGHT = Palette(bar="#5b7fa3", last="#1f4e79", ink="#1d1d1d", muted="#595959", base="#767676")
DARK = Palette(bar="#4d7fb0", last="#7fc4ff", ink="#f2f2f2", muted="#b8c4d0", base="#7a8796")


def trend_chart(
    slug: str,
    title: str,
    points: list[tuple[str, Decimal | None, str]],
    *,
    description: str,
    ceiling: Decimal | None = None,
    scale_label: str | None = None,
    width: int = 240,
    height: int = 80,
    palette: Palette = LIGHT,
    font_size: int = 11,
) -> SafeString:
    """Bars for `points` (label, value or None, the value as shown). `ceiling` is the top of the
    scale (100 for a percentage, 5 for a rating); without it, the largest value. `scale_label`
    is the top of the scale as written above its line (none: no line)."""
    values = [value for _label, value, _shown in points if value is not None]
    top = ceiling if ceiling is not None else max(values, default=Decimal(0))
    top = max(top, max(values, default=Decimal(0))) or Decimal(1)
    label_band = font_size + 4
    scale_band = label_band if scale_label else 0
    plot = height - label_band
    room = plot - scale_band - 1
    count = max(len(points), 1)
    step = width / count
    bar = max(step * 0.7, 1)
    body = [
        f'<line x1="0" x2="{width}" y1="{plot}" y2="{plot}" stroke="{palette.base}" '
        f'stroke-width="1"/>'
    ]
    if scale_label:
        body.append(
            f'<line x1="0" x2="{width}" y1="{scale_band}" y2="{scale_band}" '
            f'stroke="{palette.base}" stroke-width="1" stroke-dasharray="4 3"/>'
            f'<text x="0" y="{scale_band - 4}" fill="{palette.muted}">{escape(scale_label)}</text>'
        )
    for index, (label, value, shown) in enumerate(points):
        x = index * step + (step - bar) / 2
        colour = palette.last if index == len(points) - 1 else palette.bar
        if value is None:
            body.append(
                f'<text x="{x + bar / 2:.1f}" y="{plot - 3}" text-anchor="middle" '
                f'font-weight="700" fill="{palette.muted}">–'
                f"<title>{escape(label)}: {escape(shown)}</title></text>"
            )
            continue
        length = max(float(max(value, Decimal(0)) / top) * room, 1.0)
        body.append(
            f'<rect x="{x:.1f}" y="{plot - length:.1f}" width="{bar:.1f}" height="{length:.1f}" '
            f'fill="{colour}"><title>{escape(label)}: {escape(shown)}</title></rect>'
        )
    if points:
        body.append(
            f'<text x="0" y="{height - 2}" fill="{palette.muted}">{escape(points[0][0])}</text>'
        )
        body.append(
            f'<text x="{width}" y="{height - 2}" text-anchor="end" fill="{palette.muted}">'
            f"{escape(points[-1][0])}</text>"
        )
    return mark_safe(  # noqa: S308 - every text above is escaped; numbers are formatted here
        f'<svg xmlns="http://www.w3.org/2000/svg" class="trend-chart" '
        f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="{slug}-title {slug}-desc" '
        f'font-size="{font_size}" font-family="sans-serif">'
        f'<title id="{slug}-title">{escape(title)}</title>'
        f'<desc id="{slug}-desc">{escape(description)}</desc>' + "".join(body) + "</svg>"
    )
