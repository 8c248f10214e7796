"""Percentiles for the benchmarks' reports (not a test).

`statistics.quantiles` defaults to the "exclusive" method, which extrapolates past
the data at the ends: the p90 of three sentences' onsets 2.0, 2.2 and 4.5 s comes
out 5.88 s, worse than the worst sentence. Every report here interpolates between
values that were measured instead (the "inclusive" method, numpy's default), so a
p90 is never above the maximum nor a p10 below the minimum.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def percentile(values: Sequence[float], q: float, digits: int = 2) -> float | None:
    """The q-quantile (0 < q < 1) of `values`, between measured values; None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    below = int(position)
    above = min(below + 1, len(ordered) - 1)
    value = ordered[below] + (ordered[above] - ordered[below]) * (position - below)
    return round(value, digits)


def weighted_percentile(pairs: Iterable[Sequence[float]], q: float) -> float | None:
    """The q-quantile of values weighted by their weights: (value, weight, ...) each;
    the first value whose running weight reaches q of the whole, so a measured one."""
    ordered = sorted((p[0], p[1]) for p in pairs if p[1] > 0)
    total = sum(weight for _, weight in ordered)
    if not total:
        return None
    running = 0.0
    for value, weight in ordered:
        running += weight
        if running >= q * total:
            return round(value, 2)
    return round(ordered[-1][0], 2)
