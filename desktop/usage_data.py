"""Usage rows reshaped for the desktop: per model over the range, and tokens per day."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from desktop.api_types import Me, UsageReport, UsageRow

RANGES = (7, 30, 90)  # the range picker's choices, in days


@dataclass(frozen=True)
class UsageSnapshot:
    """What the Usage view shows: the report, and the user (for the quota line)."""

    report: UsageReport
    me: Me


def last_days(days: int, today: date | None = None) -> tuple[date, date]:
    """The `days` UTC days that end today, both ends included."""
    end = today or datetime.now(UTC).date()
    return end - timedelta(days=days - 1), end


def per_model(rows: list[UsageRow]) -> list[UsageRow]:
    """One row per model, summed over the days (its `date` empty), most tokens first."""
    sums: dict[str, list[float]] = defaultdict(lambda: [0, 0, 0, 0, 0.0])
    for row in rows:
        values = (row.requests, row.errors, row.prompt_tokens, row.completion_tokens, row.cost)
        sums[row.model] = [a + b for a, b in zip(sums[row.model], values, strict=True)]
    totals = [_total(model, values) for model, values in sums.items()]
    return sorted(totals, key=lambda row: (-row.tokens, row.model))


def _total(model: str, values: list[float]) -> UsageRow:
    requests, errors, prompt, completion, cost = values
    return UsageRow("", model, int(requests), int(errors), int(prompt), int(completion), cost)


@dataclass(frozen=True)
class DailyTokens:
    """Tokens per model on every day of the range, days without use included as 0."""

    dates: list[date]
    by_model: dict[str, list[int]]

    @property
    def peak(self) -> int:
        """The busiest day's tokens, all models together."""
        return max((sum(day) for day in zip(*self.by_model.values(), strict=True)), default=0)


def daily_tokens(report: UsageReport) -> DailyTokens:
    start, end = date.fromisoformat(report.start), date.fromisoformat(report.end)
    dates = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    index = {day: n for n, day in enumerate(dates)}
    by_model: dict[str, list[int]] = {}
    for row in per_model(report.days):
        by_model[row.model] = [0] * len(dates)
    for row in report.days:
        day = index.get(date.fromisoformat(row.date))
        if day is not None:  # the server answers for the range asked; be lenient anyway
            by_model[row.model][day] += row.tokens
    return DailyTokens(dates, by_model)
