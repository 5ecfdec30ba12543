"""Charts drawn on the server as SVG: no script, nothing fetched from elsewhere, readable without JavaScript."""

from __future__ import annotations

from html import escape

PALETTE = ("#2b6cb0", "#dd6b20", "#38a169", "#c53030", "#805ad5", "#d69e2e", "#319795", "#718096")


def stacked_bars(labels: list[str], series: dict[str, list[float]], title: str) -> str:
    """One bar per label (a day), stacked by series, with a legend; empty data gives an empty frame that says so."""
    width, height, left, bottom, top = 720, 240, 40, 40, 28
    plot_w, plot_h = width - left - 10, height - bottom - top
    totals = [sum(values[i] for values in series.values()) for i in range(len(labels))]
    peak = max(totals, default=0) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" class="chart">',
        f'<text x="{left}" y="16" class="chart-title">{escape(title)}</text>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#999"/>',
        f'<text x="{left - 4}" y="{top + 4}" text-anchor="end" class="chart-axis">{peak:g}</text>',
    ]
    if not labels:
        parts.append(f'<text x="{left + 10}" y="{top + plot_h / 2}" class="chart-axis">no data in this range</text>')
    step = plot_w / max(len(labels), 1)
    bar = max(step * 0.8, 1)
    for i, label in enumerate(labels):
        x, y = left + i * step + (step - bar) / 2, float(top + plot_h)
        for colour, (name, values) in zip(PALETTE * 4, series.items(), strict=False):
            h = values[i] / peak * plot_h
            if h > 0:
                y -= h
                parts.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" fill="{colour}">'
                    f"<title>{escape(label)} {escape(name)}: {values[i]:g}</title></rect>"
                )
        if len(labels) <= 16 or i % max(len(labels) // 8, 1) == 0:
            parts.append(
                f'<text x="{x + bar / 2:.1f}" y="{top + plot_h + 14}" text-anchor="middle" class="chart-axis">'
                f"{escape(label[5:] if len(label) == 10 else label)}</text>"
            )
    for n, (colour, name) in enumerate(zip(PALETTE * 4, series, strict=False)):
        x = left + n * 90
        parts.append(f'<rect x="{x}" y="{height - 14}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{x + 14}" y="{height - 5}" class="chart-axis">{escape(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def horizontal_bars(items: list[tuple[str, float]], title: str, unit: str = "") -> str:
    """One bar per item (a topic, an entry), longest first as given."""
    row, left, width = 20, 200, 720
    height = 30 + row * max(len(items), 1)
    peak = max((v for _, v in items), default=0) or 1
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" class="chart">',
        f'<text x="4" y="16" class="chart-title">{escape(title)}</text>',
    ]
    if not items:
        parts.append('<text x="4" y="40" class="chart-axis">no data in this range</text>')
    for i, (label, value) in enumerate(items):
        y = 26 + i * row
        w = value / peak * (width - left - 60)
        parts.append(f'<text x="{left - 6}" y="{y + 13}" text-anchor="end" class="chart-axis">{escape(label)}</text>')
        parts.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{row - 6}" fill="{PALETTE[0]}"/>')
        parts.append(f'<text x="{left + w + 4:.1f}" y="{y + 13}" class="chart-axis">{value:g}{escape(unit)}</text>')
    parts.append("</svg>")
    return "".join(parts)
