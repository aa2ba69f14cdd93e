"""Server-rendered SVG charts: no script, no CDN, readable when printed.

``bar_chart`` draws one horizontal bar per row, with its label on the left
and its value written at the end of the bar; the numbers are also in the
table the page puts below each chart.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

ROW_HEIGHT = 26
LABEL_WIDTH = 250
BAR_WIDTH = 380
VALUE_WIDTH = 90


@dataclass
class Bar:
    label: str
    value: float | None  # None: nothing to draw (no figure)
    text: str  # what is written after the bar


def bar_chart(title: str, bars: Sequence[Bar], maximum: float | None = None) -> str:
    """An SVG of horizontal bars, scaled to ``maximum`` (default: the largest value)."""
    values = [bar.value for bar in bars if bar.value is not None]
    top = maximum if maximum is not None else max(values, default=0) or 1
    height = ROW_HEIGHT * max(len(bars), 1) + 10
    width = LABEL_WIDTH + BAR_WIDTH + VALUE_WIDTH
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}">',
        f"<title>{escape(title)}</title>",
        f'<line x1="{LABEL_WIDTH}" y1="0" x2="{LABEL_WIDTH}" y2="{height - 5}" '
        'stroke="#333" stroke-width="1"/>',
    ]
    for index, bar in enumerate(bars):
        y = 5 + index * ROW_HEIGHT
        middle = y + ROW_HEIGHT / 2 + 4
        length = 0 if bar.value is None else BAR_WIDTH * min(bar.value, top) / top
        parts.append(
            f'<text x="{LABEL_WIDTH - 6}" y="{middle:.1f}" text-anchor="end" '
            f'font-size="13">{escape(_short(bar.label))}</text>'
        )
        if length:
            # A dark fill with a black outline prints on any printer.
            parts.append(
                f'<rect x="{LABEL_WIDTH}" y="{y + 4}" width="{length:.1f}" '
                f'height="{ROW_HEIGHT - 8}" fill="#4a6fa5" stroke="#000" stroke-width="0.5"/>'
            )
        parts.append(
            f'<text x="{LABEL_WIDTH + length + 6:.1f}" y="{middle:.1f}" '
            f'font-size="13">{escape(bar.text)}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _short(label: str, limit: int = 18) -> str:
    """The label, cut in the middle when too long: the end of a 文号 (its
    year and number) is what tells two memos apart."""
    if len(label) <= limit:
        return label
    head = (limit - 1) // 2
    return label[:head] + "…" + label[-(limit - 1 - head) :]
