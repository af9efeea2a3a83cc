"""Small inline SVG charts for reports and the console: no scripts, no external files, readable
without colour (values are printed on the bars)."""

from html import escape

OK_FILL, LOW_FILL, LINE = "#3a7bd5", "#d9534f", "#555"


def bars(values: list[int], labels: list[str], *, threshold: int | None = None, title: str = "",
         width: int = 560, height: int = 160) -> str:
    """A bar per value; bars below `threshold` are drawn in the warning colour, with a dashed line
    at the threshold."""
    top = max([*values, threshold or 0, 1])
    pad_left, pad_bottom, pad_top = 28, 22, 18
    plot_w, plot_h = width - pad_left - 4, height - pad_bottom - pad_top
    step = plot_w / max(len(values), 1)
    bar_w = max(step * 0.7, 1)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
             f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(title)}">',
             f'<title>{escape(title)}</title>',
             f'<text x="{pad_left}" y="12" font-size="11">{escape(title)}</text>',
             f'<line x1="{pad_left}" y1="{pad_top + plot_h}" x2="{width - 4}" y2="{pad_top + plot_h}" '
             f'stroke="{LINE}"/>']
    for i, value in enumerate(values):
        h = plot_h * value / top
        x = pad_left + i * step + (step - bar_w) / 2
        y = pad_top + plot_h - h
        low = threshold is not None and value < threshold
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" '
                     f'fill="{LOW_FILL if low else OK_FILL}"><title>{escape(labels[i])}: {value}</title></rect>')
        parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{y - 2:.1f}" font-size="9" text-anchor="middle">{value}</text>')
        if len(values) <= 16 or i % max(len(values) // 8, 1) == 0:
            parts.append(f'<text x="{x + bar_w / 2:.1f}" y="{height - 6}" font-size="9" '
                         f'text-anchor="middle">{escape(labels[i])}</text>')
    if threshold:
        y = pad_top + plot_h - plot_h * threshold / top
        parts.append(f'<line x1="{pad_left}" y1="{y:.1f}" x2="{width - 4}" y2="{y:.1f}" stroke="{LINE}" '
                     f'stroke-dasharray="4 3"/><text x="2" y="{y + 3:.1f}" font-size="9">{threshold}</text>')
    parts.append("</svg>")
    return "".join(parts)
