"""Shapes of the usage endpoints: `GET /me/usage` and the admin's `GET /usage`."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from chatapp.schemas.users import Username

DEFAULT_DAYS = 30  # without `from`: the last 30 days, today (UTC) included
MAX_DAYS = 3660  # a period longer than about ten years is a typo


class UsageQuery(BaseModel):
    """A period of UTC days, both ends included."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: date | None = Field(None, alias="from", description="YYYY-MM-DD; default: to - 29 days")
    to: date | None = Field(None, description="YYYY-MM-DD; default: today (UTC)")

    @model_validator(mode="after")
    def _check_period(self) -> UsageQuery:
        if self.from_ and self.to and self.from_ > self.to:
            raise ValueError("'from' must not be after 'to'")
        if self.from_ and self.to and (self.to - self.from_).days >= MAX_DAYS:
            raise ValueError(f"a period is at most {MAX_DAYS} days")
        return self

    def period(self, today: date) -> tuple[date, date]:
        end = self.to or today
        return self.from_ or end - timedelta(days=DEFAULT_DAYS - 1), end


class AdminUsageQuery(UsageQuery):
    user: Username | None = Field(None, description="One user's totals only")


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


class UserUsage(UsageTotals):
    """A user's totals over the period."""

    username: str
    errors: int


class UsersUsageResponse(PeriodUsage):
    users: list[UserUsage]
