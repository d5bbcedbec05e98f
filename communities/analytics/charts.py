"""Server-rendered bar charts: the geometry is computed here, ``_charts.html`` draws the SVG with a
title, a description and the same numbers as a table for screen readers and printing."""

from __future__ import annotations

from dataclasses import dataclass, field

WIDTH, HEIGHT = 640, 240
MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 44, 8, 12, 40


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float


@dataclass
class BarChart:
    key: str  # used for the element ids
    title: str
    description: str
    value_label: str
    bars: list[Bar] = field(default_factory=list)
    ticks: list[tuple[int, float]] = field(default_factory=list)  # (value, y)
    width: int = WIDTH
    height: int = HEIGHT
    baseline: float = HEIGHT - MARGIN_BOTTOM
    left: int = MARGIN_LEFT


def nice_maximum(value: int) -> int:
    """The smallest of 1, 2, 5 × 10ⁿ at least ``value`` (a round top for the axis)."""
    if value <= 0:
        return 1
    magnitude = 1
    while True:
        for step in (1, 2, 5):
            if step * magnitude >= value:
                return step * magnitude
        magnitude *= 10


def bar_chart(key, title, description, value_label, points: list[tuple[str, int]]) -> BarChart:
    chart = BarChart(key, str(title), str(description), str(value_label))
    top = nice_maximum(max((value for _, value in points), default=0))
    plot_height = HEIGHT - MARGIN_TOP - MARGIN_BOTTOM
    plot_width = WIDTH - MARGIN_LEFT - MARGIN_RIGHT
    slot = plot_width / max(len(points), 1)
    for index, (label, value) in enumerate(points):
        height = plot_height * value / top
        chart.bars.append(
            Bar(
                label=label,
                value=value,
                x=round(MARGIN_LEFT + index * slot + slot * 0.15, 1),
                y=round(chart.baseline - height, 1),
                width=round(slot * 0.7, 1),
                height=round(height, 1),
            )
        )
    for fraction in (0, 0.5, 1):
        value = top * fraction
        if value == int(value):
            chart.ticks.append((int(value), round(chart.baseline - plot_height * fraction, 1)))
    return chart
