"""KPI trend charts as SVG drawn on the server: no script, readable in print, styled only by attributes and
the console's stylesheet (the Content-Security-Policy allows no inline style)."""

from __future__ import annotations

from markupsafe import Markup, escape

from hub.kpis.series import Series

WIDTH, HEIGHT = 640, 200
LEFT, RIGHT, TOP, BOTTOM = 48, 36, 12, 36  # room for the first and last period labels
LABELS = 8  # period labels along the axis at most, so they never overlap


def _y(value: float, low: float, high: float) -> float:
    return TOP + (high - value) / (high - low) * (HEIGHT - TOP - BOTTOM)


def trend_chart(series: Series) -> Markup:
    """One characteristic's KPI per period with its threshold line. A period that counted against the
    supplier (not met, or missing) is a filled red mark; a period met with only a proof disclosed (no value)
    is drawn on the threshold line and labelled "proven"."""
    points = series.points
    values = [p.value for p in points if p.value is not None] + [series.threshold]
    low, high = min(values), max(values)
    pad = (high - low) * 0.15 or max(abs(high) * 0.15, 0.1)
    low, high = low - pad, high + pad
    step = (WIDTH - LEFT - RIGHT) / max(1, len(points) - 1) if len(points) > 1 else 0
    label = f"{series.kpi} of {series.characteristic or series.part_number}, threshold {series.threshold:g}"
    out = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(label)}" '
        'xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(label)}</title>",
        f'<line class="axis" x1="{LEFT}" y1="{HEIGHT - BOTTOM}" x2="{WIDTH - RIGHT}" y2="{HEIGHT - BOTTOM}"/>',
        f'<line class="axis" x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{HEIGHT - BOTTOM}"/>',
    ]
    ty = _y(series.threshold, low, high)
    out.append(f'<line class="threshold" x1="{LEFT}" y1="{ty:.1f}" x2="{WIDTH - RIGHT}" y2="{ty:.1f}"/>')
    out.append(
        f'<text class="tick" x="{LEFT - 4}" y="{ty + 4:.1f}" text-anchor="end">{series.threshold:g}</text>'
    )
    # Two years of weeks would print 104 overlapping labels: label about every eighth, always the last.
    every = max(1, -(-len(points) // LABELS))
    radius = 5 if len(points) <= LABELS * 3 else 3

    def labelled(i: int) -> bool:
        return i == len(points) - 1 or (i % every == 0 and len(points) - 1 - i >= every / 2)

    line = []
    for i, point in enumerate(points):
        x = LEFT + i * step if len(points) > 1 else (LEFT + WIDTH - RIGHT) / 2
        hidden = point.value is None  # the reader sees only met / not met: drawn on the threshold line
        proven = hidden and point.met and point.proven
        y = ty if point.value is None else _y(point.value, low, high)
        if not hidden:
            line.append(f"{x:.1f},{y:.1f}")
        state = "met" if point.met else "against"
        if hidden:
            what = "proven" if proven else ("met" if point.met else "not met")
        else:
            what = f"{point.value:g}" + ("" if point.met else " (not met)")
        marks = " proven" if proven else (" hidden" if hidden else "")
        out.append(
            f'<circle class="point {state}{marks}" cx="{x:.1f}" cy="{y:.1f}" r="{radius:g}">'
            f"<title>{escape(point.period)}: {escape(what)}</title></circle>"
        )
        if proven and labelled(i):
            out.append(
                f'<text class="proven-label" x="{x:.1f}" y="{y - 9:.1f}" text-anchor="middle">proven</text>'
            )
        if labelled(i):
            out.append(
                f'<text class="tick" x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">'
                f"{escape(point.period)}</text>"
            )
    if len(line) > 1:
        out.insert(5, f'<polyline class="series" points="{" ".join(line)}"/>')
    out.append("</svg>")
    return Markup("".join(out))  # noqa: S704 - every interpolated text above is escaped
