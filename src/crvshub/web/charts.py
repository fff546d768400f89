"""Charts of the performance dashboard, drawn as inline SVG on the server (no script).

Every chart scales with its container (a `viewBox`, no fixed width), so it fits a phone;
colours come from attributes, not inline styles, which the pages' CSP forbids.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

from crvshub.web.i18n import N_

BIRTH, DEATH = "#2f6db5", "#c0504d"
TIMELY = {"within-legal-period": "#3a9a5b", "late": "#e0a030", "delayed": "#c0504d",
          "unknown": "#9aa5b1"}


@dataclass(frozen=True)
class Bar:
    """One bar of a ranked chart: a label, a value and the text shown at its end."""

    label: str
    value: float
    text: str


def _svg(width: int, height: int, body: list[str], title: str) -> Markup:
    return Markup(  # noqa: S704 (every piece of text is escaped below)
        f'<svg class="chart" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>")


def ranked_bars(bars: Sequence[Bar], title: str, *, scale_max: float | None = None,
                colour: str = BIRTH) -> Markup:
    """Return a horizontal bar chart, one row per bar, in the order given."""
    width, row, label_w = 400, 24, 104
    top = max((b.value for b in bars), default=0)
    ceiling = scale_max if scale_max is not None else top
    ceiling = ceiling or 1
    plot = width - label_w - 84
    body = []
    for i, bar in enumerate(bars):
        y = i * row
        length = max(0.0, min(bar.value, ceiling)) / ceiling * plot
        body.append(
            f'<text x="{label_w - 6}" y="{y + 17}" text-anchor="end" font-size="13" '
            f'fill="#1b2a3a">{escape(bar.label[:14])}</text>'
            f'<rect x="{label_w}" y="{y + 5}" width="{length:.1f}" height="16" '
            f'fill="{colour}" data-testid="bar"><title>{escape(bar.label)}: '
            f'{escape(bar.text)}</title></rect>'
            f'<text x="{label_w + length + 5:.1f}" y="{y + 17}" font-size="12" '
            f'fill="#1b2a3a">{escape(bar.text)}</text>')
    return _svg(width, max(row * len(bars), row), body, title)


def _same(text: str) -> str:
    return text


def monthly_columns(months: Sequence[str], births: Sequence[int], deaths: Sequence[int],
                    title: str, words: Callable[[str], str] = _same) -> Markup:
    """Return a column chart of births and deaths per month, side by side."""
    width, height, left, bottom = 400, 220, 34, 40
    top = max([*births, *deaths, 1])
    slot = (width - left - 10) / max(len(months), 1)
    plot_h = height - bottom - 15
    body = [f'<line x1="{left}" y1="{height - bottom}" x2="{width - 5}" y2="{height - bottom}" '
            f'stroke="#9aa5b1"/>',
            f'<text x="{left - 4}" y="20" text-anchor="end" font-size="11" '
            f'fill="#555">{top}</text>']
    step = max(1, len(months) // 6)
    for i, month in enumerate(months):
        x = left + i * slot
        for j, (value, colour) in enumerate(((births[i], BIRTH), (deaths[i], DEATH))):
            h = value / top * plot_h
            body.append(f'<rect x="{x + 2 + j * slot * 0.45:.1f}" y="{height - bottom - h:.1f}" '
                        f'width="{slot * 0.42:.1f}" height="{h:.1f}" fill="{colour}" '
                        f'data-testid="column"><title>{escape(month)}: {value}</title></rect>')
        if i % step == 0:
            body.append(f'<text x="{x + slot / 2:.1f}" y="{height - bottom + 16}" '
                        f'text-anchor="middle" font-size="11" fill="#555">'
                        f'{escape(month[2:])}</text>')
    body.append(_legend(left, height - 8, ((words(N_("Births")), BIRTH),
                                           (words(N_("Deaths")), DEATH))))
    return _svg(width, height, body, title)


def stacked_share(rows: Sequence[tuple[str, dict[str, int]]], title: str,
                  words: Callable[[str], str] = _same) -> Markup:
    """Return one 100% stacked bar per row (timeliness groups), with a legend."""
    width, row, label_w = 400, 30, 60
    plot = width - label_w - 10
    body = []
    for i, (label, counts) in enumerate(rows):
        total = sum(counts.values()) or 1
        x = float(label_w)
        y = i * row
        body.append(f'<text x="{label_w - 6}" y="{y + 19}" text-anchor="end" font-size="13" '
                    f'fill="#1b2a3a">{escape(label)}</text>')
        for key, colour in TIMELY.items():
            share = counts.get(key, 0) / total
            w = share * plot
            if w <= 0:
                continue
            body.append(f'<rect x="{x:.1f}" y="{y + 5}" width="{w:.1f}" height="20" '
                        f'fill="{colour}" data-testid="share"><title>{escape(key)}: '
                        f'{counts.get(key, 0)} ({100 * share:.0f}%)</title></rect>')
            if w > 34:
                body.append(f'<text x="{x + w / 2:.1f}" y="{y + 19}" text-anchor="middle" '
                            f'font-size="11" fill="#fff">{100 * share:.0f}%</text>')
            x += w
    legend_y = len(rows) * row + 16
    body.append(_legend(10, legend_y, (
        (words(N_("Within legal period")), TIMELY["within-legal-period"]),
        (words(N_("Late")), TIMELY["late"]), (words(N_("Delayed")), TIMELY["delayed"]))))
    return _svg(width, legend_y + 8, body, title)


def _legend(x: float, y: float, items: Sequence[tuple[str, str]]) -> str:
    parts = []
    for label, colour in items:
        parts.append(f'<rect x="{x:.0f}" y="{y - 10:.0f}" width="10" height="10" '
                     f'fill="{colour}"/><text x="{x + 14:.0f}" y="{y:.0f}" font-size="12" '
                     f'fill="#1b2a3a">{escape(label)}</text>')
        x += 22 + 6.5 * len(label)
    return "".join(parts)
