"""Shapes of the usage endpoints: `GET /me/usage` and the admin's `GET /usage`."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any, Literal, Protocol

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from chatapp.schemas.users import Username

_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_day(value: object) -> object:
    # Only YYYY-MM-DD: pydantic would also take a number of seconds since 1970 ("0").
    if isinstance(value, str) and not _ISO_DAY.match(value):
        raise ValueError("must be a date written YYYY-MM-DD")
    return value


Day = Annotated[date, BeforeValidator(_iso_day)]


class UsageQuery(BaseModel):
    """A period of UTC days, both ends included; `from` after `to` is a 400."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: Day | None = Field(None, alias="from", description="YYYY-MM-DD; default: to - 29 days")
    to: Day | None = Field(None, description="YYYY-MM-DD; default: today (UTC)")


class AdminUsageQuery(UsageQuery):
    user: Username | None = Field(None, description="One user's totals only")


class Report(Protocol):
    """What the usage service reports (services/usage.py's Report and UsersReport)."""

    start: date
    end: date
    totals: Any


class DaysReport(Report, Protocol):
    rows: list[Any]


class UsersReport(Report, Protocol):
    users: list[Any]


class UsageTotals(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    requests: int
    prompt_tokens: int
    completion_tokens: int
    cost: float


class UsageDay(UsageTotals):
    """One model's usage on one UTC day."""

    date: date
    model: str
    errors: int


class PeriodUsage(BaseModel):
    """The period asked for (defaults filled in) and the totals over it."""

    model_config = ConfigDict(populate_by_name=True, serialize_by_alias=True)

    success: Literal[True] = True
    from_: date = Field(alias="from")
    to: date
    totals: UsageTotals


class MeUsageResponse(PeriodUsage):
    days: list[UsageDay]

    @classmethod
    def of(cls, report: DaysReport) -> MeUsageResponse:
        return cls(
            from_=report.start,
            to=report.end,
            totals=UsageTotals.model_validate(report.totals),
            days=[UsageDay.model_validate(row) for row in report.rows],
        )


class UserUsage(UsageTotals):
    """A user's totals over the period."""

    username: str
    errors: int


class UsersUsageResponse(PeriodUsage):
    users: list[UserUsage]

    @classmethod
    def of(cls, report: UsersReport) -> UsersUsageResponse:
        users = [UserUsage(username=u.username, **vars(u.totals)) for u in report.users]
        totals = UsageTotals.model_validate(report.totals)
        return cls(from_=report.start, to=report.end, totals=totals, users=users)
