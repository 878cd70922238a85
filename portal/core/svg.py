"""Small charts drawn on the server as SVG strings: a line chart and a bar chart
with axes, gridlines and tick labels formatted by the caller (Babel formatters).

No script and no style attribute or element (the CSP allows neither inline):
colours come from presentation attributes (fill, stroke), which the page's
stylesheet may refine through the classes set here. Every text that reaches
the SVG — labels, titles, series names — is escaped.

    line_chart(["1 Nov", "2 Nov"], [("Workload", [12.5, None])], title="Workload per day",
               y_format=lambda v: format_decimal(v))
"""
import math

from markupsafe import Markup, escape

PALETTE = ("#0f766e", "#b45309", "#6d28d9", "#be123c", "#1d4ed8")
WIDTH, HEIGHT = 640, 220
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 56, 12, 14, 30
MAX_X_LABELS = 8


def nice_ticks(low, high, count=5):
    """Round tick values covering [low, high]: steps of 1, 2, 2.5 or 5 × 10^k."""
    if not (math.isfinite(low) and math.isfinite(high)):
        low, high = 0.0, 1.0
    if high - low < 1e-9 * max(1.0, abs(low), abs(high)):
        high = low + max(1.0, abs(low) * 0.1)
    raw = (high - low) / max(count - 1, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    value = math.floor(low / step) * step
    ticks = [value]
    while value < high and len(ticks) < 12:
        value += step
        ticks.append(round(value, 10))
    return ticks


def _value(value):
    """A plotted value, or None for a gap (None or NaN)."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _attrs(**attributes):
    return "".join(f' {name.replace("_", "-")}="{escape(value)}"' for name, value in attributes.items())


class _Frame:
    """The plotting area and the value → pixel mapping shared by both charts."""

    def __init__(self, labels, values, width, height, zero_based):
        self.width, self.height = width, height
        self.left, self.right = MARGIN_LEFT, width - MARGIN_RIGHT
        self.top, self.bottom = MARGIN_TOP, height - MARGIN_BOTTOM
        present = [v for v in values if v is not None]
        low = min(present, default=0.0)
        high = max(present, default=1.0)
        if zero_based:
            low = min(low, 0.0)
        self.ticks = nice_ticks(low, high)
        self.low, self.high = self.ticks[0], self.ticks[-1]
        self.count = len(labels)

    def y(self, value):
        span = (self.high - self.low) or 1.0
        return self.bottom - (value - self.low) / span * (self.bottom - self.top)

    def slot(self):
        return (self.right - self.left) / max(self.count, 1)

    def x(self, index):
        """The centre of slot `index`."""
        return self.left + self.slot() * (index + 0.5)


def _open(frame, title, description):
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {frame.width} {frame.height}"'
             f' role="img" preserveAspectRatio="xMidYMid meet" font-size="12" font-family="sans-serif">',
             f"<title>{escape(title)}</title>"]
    if description:
        parts.append(f"<desc>{escape(description)}</desc>")
    return parts


def _axes(frame, labels, y_format):
    parts = ['<g class="chart-grid">']
    for tick in frame.ticks:
        y = round(frame.y(tick), 1)
        parts.append(f'<line{_attrs(x1=frame.left, x2=frame.right, y1=y, y2=y, stroke="#e5e7eb")}/>')
        parts.append(f'<text{_attrs(x=frame.left - 6, y=y + 4, text_anchor="end", fill="#6b7280")}>'
                     f"{escape(y_format(tick))}</text>")
    parts.append("</g>")
    parts.append(f'<line class="chart-axis"{_attrs(x1=frame.left, x2=frame.right, y1=frame.bottom, y2=frame.bottom, stroke="#9ca3af")}/>')
    every = max(1, math.ceil(len(labels) / MAX_X_LABELS))
    parts.append('<g class="chart-labels">')
    for index, label in enumerate(labels):
        if index % every == 0:
            parts.append(f'<text{_attrs(x=round(frame.x(index), 1), y=frame.bottom + 16, text_anchor="middle", fill="#6b7280")}>'
                         f"{escape(label)}</text>")
    parts.append("</g>")
    return parts


def _legend(frame, series):
    if len(series) < 2:
        return []
    parts = ['<g class="chart-legend">']
    x = frame.left
    for number, (name, _values) in enumerate(series):
        colour = PALETTE[number % len(PALETTE)]
        parts.append(f'<rect{_attrs(x=x, y=2, width=10, height=10, fill=colour)}/>')
        parts.append(f'<text{_attrs(x=x + 14, y=11, fill="#374151")}>{escape(name)}</text>')
        x += 24 + 7 * len(str(name))
    parts.append("</g>")
    return parts


def _empty(frame, empty_text):
    return [f'<text{_attrs(x=frame.width / 2, y=frame.height / 2, text_anchor="middle", fill="#6b7280")}>'
            f"{escape(empty_text)}</text>"]


def line_chart(labels, series, *, title, y_format=str, point_format=None, description="", empty_text="",
               width=WIDTH, height=HEIGHT, zero_based=True):
    """An SVG line chart (as Markup). `labels`: one text per x position; `series`:
    [(name, values)] with None or NaN for a gap (the line breaks there). Each point
    carries a <title> (name, label, value by `point_format` or `y_format`)."""
    series = [(name, [_value(v) for v in values]) for name, values in series]
    everything = [v for _name, values in series for v in values]
    frame = _Frame(labels, everything, width, height, zero_based)
    parts = _open(frame, title, description)
    parts += _axes(frame, labels, y_format)
    point_format = point_format or y_format
    if all(v is None for v in everything):
        parts += _empty(frame, empty_text)
    for number, (name, values) in enumerate(series):
        colour = PALETTE[number % len(PALETTE)]
        runs, run = [], []
        for index, value in enumerate(values):
            if value is None:
                if run:
                    runs.append(run)
                run = []
            else:
                run.append((round(frame.x(index), 1), round(frame.y(value), 1)))
        if run:
            runs.append(run)
        parts.append(f'<g class="chart-series chart-s{number}">')
        for points in runs:
            if len(points) > 1:
                path = " ".join(f"{x},{y}" for x, y in points)
                parts.append(f'<polyline{_attrs(points=path, fill="none", stroke=colour, stroke_width=2)}/>')
        for index, value in enumerate(values):
            if value is not None:
                parts.append(f'<circle{_attrs(cx=round(frame.x(index), 1), cy=round(frame.y(value), 1), r=2.5, fill=colour)}>'
                             f"<title>{escape(name)} · {escape(labels[index])}: {escape(point_format(value))}</title>"
                             "</circle>")
        parts.append("</g>")
    parts += _legend(frame, series)
    parts.append("</svg>")
    return Markup("".join(parts))


def bar_chart(labels, values, *, title, y_format=str, point_format=None, name="", description="", empty_text="",
              width=WIDTH, height=HEIGHT):
    """An SVG bar chart (as Markup) of one series; None or NaN draws no bar."""
    values = [_value(v) for v in values]
    frame = _Frame(labels, values, width, height, zero_based=True)
    parts = _open(frame, title, description)
    parts += _axes(frame, labels, y_format)
    point_format = point_format or y_format
    if all(v is None for v in values):
        parts += _empty(frame, empty_text)
    bar = max(frame.slot() * 0.7, 1.0)
    parts.append('<g class="chart-series chart-s0">')
    zero = frame.y(max(frame.low, 0.0))
    for index, value in enumerate(values):
        if value is None:
            continue
        top = frame.y(value)
        y, h = min(top, zero), abs(zero - top)
        label = f"{name} · {labels[index]}" if name else labels[index]
        parts.append(f'<rect{_attrs(x=round(frame.x(index) - bar / 2, 1), y=round(y, 1), width=round(bar, 1), height=round(h, 1), fill=PALETTE[0])}>'
                     f"<title>{escape(label)}: {escape(point_format(value))}</title></rect>")
    parts.append("</g></svg>")
    return Markup("".join(parts))
