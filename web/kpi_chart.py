"""The daily answer-time chart as plain SVG numbers, drawn by the template: no script, no CDN."""

from __future__ import annotations

from dataclasses import dataclass, field

from alerts.kpi import TARGET_60, TARGET_180

WIDTH, HEIGHT = 720, 260
LEFT, RIGHT, TOP, BOTTOM = 52, 16, 14, 30
# (lowest share shown, tick step): the scale starts low enough to show the worst day,
# and no lower, so a slip from 99 % to 96 % is visible rather than a flat line at the top.
SCALES = ((0.9, 0.02), (0.8, 0.05), (0.5, 0.1), (0.0, 0.2))


@dataclass
class Chart:
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    right: int = WIDTH - RIGHT
    top: int = TOP
    bottom: int = HEIGHT - BOTTOM
    ticks: list[tuple[float, float]] = field(default_factory=list)  # (share, y)
    targets: list[tuple[float, float]] = field(default_factory=list)
    # Each line as runs of (x, y, day, share): a day without alarms breaks it.
    series: dict[str, list[list[tuple]]] = field(default_factory=dict)
    labels: list[tuple[float, str]] = field(default_factory=list)  # (x, dd/mm)
    empty: bool = True


def chart(days) -> Chart:
    """days: [(date, Figures)]; a day without alarms breaks the line rather than reading 0 %."""
    c = Chart()
    shares = [s for _, f in days for s in (f.share_60, f.share_180) if s is not None]
    c.empty = not shares
    low, step = next(((lo, st) for lo, st in SCALES if not shares or min(shares) >= lo),
                     SCALES[-1])

    def y(share: float) -> float:
        return round(c.bottom - (share - low) / (1 - low) * (c.bottom - c.top), 1)

    span = c.right - c.left
    count = len(days)

    def x(index: int) -> float:
        return round(c.left + (span / 2 if count == 1 else index * span / (count - 1)), 1)

    c.ticks = [(round(low + n * step, 4), y(low + n * step))
               for n in range(round((1 - low) / step) + 1)]
    c.targets = [(TARGET_60, y(TARGET_60)), (TARGET_180, y(TARGET_180))]
    for name in ("share_60", "share_180"):
        runs: list[list] = [[]]
        for index, (day, figures) in enumerate(days):
            share = getattr(figures, name)
            if share is None:
                if runs[-1]:
                    runs.append([])
                continue
            runs[-1].append((x(index), y(share), day, share))
        c.series[name] = [run for run in runs if run]
    c.labels = [(x(i), f"{days[i][0]:%d/%m}") for i in label_days(count)]
    return c


def label_days(count: int, most: int = 8) -> list[int]:
    """Which days get a date under the axis: about `most`, evenly, the first and the last.

    The last day always has its date; the regular one before it gives way when it would
    sit closer than half a spacing (the two dates would print over each other).
    """
    if count == 0:
        return []
    every = max(1, round(count / most))
    chosen = list(range(0, count, every))
    if chosen[-1] != count - 1:
        if count - 1 - chosen[-1] < every / 2 and len(chosen) > 1:
            chosen.pop()
        chosen.append(count - 1)
    return chosen
