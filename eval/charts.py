"""Small charts as inline SVG strings, for the self-contained evaluation report (no script, no CDN, no library).

    bar_chart("hit@k", ["bm25", "hybrid"], {"hit@1": [0.6, 0.8], "MRR": [0.7, 0.85]}, y_max=1)
    stacked_bars("bands", ["direct", "bot"], {"confident": [0.8, 0.7], "refused": [0.2, 0.3]})
    line_chart("load", {"turns/s": [(0, 1.9), (1, 2.1)]}, x_label="s", y_label="turns/s")
    heatmap("intents", ["greet", "bye"], [[9, 1], [0, 10]])

Each returns one `<svg>` element sized by its content; labels are escaped.
"""

from __future__ import annotations

from html import escape

PALETTE = ("#2b6cb0", "#dd6b20", "#38a169", "#805ad5", "#d53f8c", "#718096", "#b7791f", "#319795")
FONT = 'font-family="system-ui, sans-serif"'
BOLD = 'font-weight="600"'


def _text(x: float, y: float, text: str, size: int = 11, anchor: str = "middle", extra: str = "") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" {FONT} {extra}>'
            f"{escape(text)}</text>")


def _legend(names: list[str], x: float, y: float) -> str:
    parts = []
    for index, name in enumerate(names):
        cx = x + index * 110
        parts.append(f'<rect x="{cx:.1f}" y="{y - 9:.1f}" width="10" height="10" fill="{PALETTE[index % 8]}"/>')
        parts.append(_text(cx + 14, y, name, 11, "start"))
    return "".join(parts)


def _svg(width: float, height: float, title: str, body: str) -> str:
    width = max(width, sum(14 if ord(ch) > 0x2E80 else 8 for ch in title) + 20)  # the title never cut
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
            f'viewBox="0 0 {width:.0f} {height:.0f}" role="img" aria-label="{escape(title)}">'
            f"{_text(width / 2, 18, title, 14, extra=BOLD)}"
            f"{body}</svg>")


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    for step in (1, 2, 2.5, 5, 10):
        magnitude = 10 ** (len(str(int(value))) - 1) if value >= 1 else 0.1
        if value <= step * magnitude:
            return step * magnitude
    return value


def bar_chart(title: str, categories: list[str], series: dict[str, list[float]], *, y_max: float | None = None,
              number: str = "{:.2f}") -> str:
    """Grouped vertical bars: one group per category, one bar per series, its value above it."""
    names = list(series)
    group = max(1, len(names)) * 26 + 24
    left, top, plot_height = 48, 40, 200
    width = left + group * max(1, len(categories)) + 20
    top_value = y_max or _nice_max(max((v for values in series.values() for v in values), default=1))
    body = [_axes(left, top, plot_height, width - 20, top_value, number)]
    for c, category in enumerate(categories):
        x0 = left + c * group + 12
        for s, name in enumerate(names):
            value = series[name][c]
            height = plot_height * min(value, top_value) / top_value
            x = x0 + s * 26
            body.append(f'<rect x="{x:.1f}" y="{top + plot_height - height:.1f}" width="22" height="{height:.1f}" '
                        f'fill="{PALETTE[s % 8]}"><title>{escape(name)} {escape(category)}: {value}</title></rect>')
            body.append(_text(x + 11, top + plot_height - height - 3, number.format(value), 9))
        body.append(_text(x0 + len(names) * 13, top + plot_height + 16, category, 11))
    body.append(_legend(names, left, top + plot_height + 38))
    return _svg(width, top + plot_height + 50, title, "".join(body))


def _axes(left: float, top: float, height: float, right: float, top_value: float, number: str) -> str:
    parts = []
    for tick in range(5):
        value = top_value * tick / 4
        y = top + height - height * tick / 4
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{right:.1f}" y2="{y:.1f}" stroke="#e2e8f0"/>')
        parts.append(_text(left - 6, y + 4, number.format(value), 10, "end"))
    parts.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + height}" stroke="#4a5568"/>')
    return "".join(parts)


def stacked_bars(title: str, rows: list[str], parts: dict[str, list[float]]) -> str:
    """Horizontal bars of shares (each row sums to at most 1), one colour per part, the share written inside."""
    names = list(parts)
    left, top, bar_width, row_height = 170, 34, 420, 26
    body = []
    for r, row in enumerate(rows):
        y = top + r * row_height
        body.append(_text(left - 8, y + 15, row, 11, "end"))
        x = left
        for p, name in enumerate(names):
            share = max(0.0, parts[name][r])
            width = bar_width * share
            body.append(f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="20" fill="{PALETTE[p % 8]}">'
                        f"<title>{escape(row)} {escape(name)}: {share:.3f}</title></rect>")
            if width > 30:
                body.append(_text(x + width / 2, y + 14, f"{share:.2f}", 10, extra='fill="white"'))
            x += width
    legend_y = top + len(rows) * row_height + 18
    body.append(_legend(names, left, legend_y))
    return _svg(left + bar_width + 30, legend_y + 12, title, "".join(body))


def line_chart(title: str, series: dict[str, list[tuple[float, float]]], *, x_label: str = "",
               y_label: str = "", y_max: float | None = None, number: str = "{:.0f}") -> str:
    """One polyline per series over shared axes."""
    points = [p for values in series.values() for p in values]
    left, top, width, height = 56, 40, 560, 200
    x_max = max((x for x, _ in points), default=1) or 1
    x_min = min((x for x, _ in points), default=0)
    top_value = y_max or _nice_max(max((y for _, y in points), default=1))
    if top_value <= 5 and number == "{:.0f}":
        number = "{:.1f}"  # small counts: whole numbers would repeat on the axis
    span = (x_max - x_min) or 1
    body = [_axes(left, top, height, left + width, top_value, number)]
    for s, (name, values) in enumerate(series.items()):
        coordinates = " ".join(
            f"{left + width * (x - x_min) / span:.1f},{top + height - height * min(y, top_value) / top_value:.1f}"
            for x, y in values)
        body.append(f'<polyline points="{coordinates}" fill="none" stroke="{PALETTE[s % 8]}" stroke-width="2">'
                    f"<title>{escape(name)}</title></polyline>")
    for tick in range(5):
        x_value = x_min + span * tick / 4
        body.append(_text(left + width * tick / 4, top + height + 15, f"{x_value:.3g}", 10))
    body.append(_text(left + width / 2, top + height + 32, x_label, 11))
    body.append(_text(14, top + height / 2, y_label, 11, extra=f'transform="rotate(-90 14 {top + height / 2})"'))
    body.append(_legend(list(series), left, top + height + 52))
    return _svg(left + width + 30, top + height + 62, title, "".join(body))


def heatmap(title: str, labels: list[str], matrix: list[list[int]], *, row_title: str = "true",
            column_title: str = "predicted") -> str:
    """A count matrix (rows: true, columns: predicted); darker is more, the count written in each non-empty cell."""
    size = 18 if len(labels) > 20 else 24
    left = 8 + 7 * max((len(label) for label in labels), default=4)
    top = 40 + 7 * max((len(label) for label in labels), default=4)
    most = max((value for row in matrix for value in row), default=1) or 1
    body = []
    for r, row in enumerate(matrix):
        body.append(_text(left - 4, top + r * size + size * 0.7, labels[r], 10, "end"))
        for c, value in enumerate(row):
            shade = 0 if not value else 0.15 + 0.85 * value / most
            colour = f"rgba(43,108,176,{shade:.2f})" if r != c else f"rgba(56,161,105,{shade:.2f})"
            x, y = left + c * size, top + r * size
            body.append(f'<rect x="{x}" y="{y}" width="{size - 1}" height="{size - 1}" fill="{colour}" '
                        f'stroke="#edf2f7"><title>{escape(labels[r])} → {escape(labels[c])}: {value}</title></rect>')
            if value:
                body.append(_text(x + size / 2, y + size * 0.68, str(value), 8,
                                  extra='fill="white"' if shade > 0.5 else ""))
    for c, label in enumerate(labels):
        x = left + c * size + size * 0.6
        body.append(_text(x, top - 4, label, 10, "start", extra=f'transform="rotate(-60 {x:.1f} {top - 4})"'))
    body.append(_text(left + len(labels) * size / 2, top + len(labels) * size + 18, f"{row_title} ↓  ·  "
                      f"{column_title} →", 11))
    return _svg(left + len(labels) * size + 20, top + len(labels) * size + 30, title, "".join(body))
