"""Shapes of the usage endpoints: `GET /me/usage` and the admin's `GET /usage`."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from chatapp.errors import BadRequest
from chatapp.schemas.users import Username

DEFAULT_DAYS = 30  # without `from`: the last 30 days, today (UTC) included
MAX_DAYS = 3660  # a period longer than about ten years is a typo
_ISO_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _iso_day(value: object) -> object:
    # Only YYYY-MM-DD: pydantic would also take a number of seconds since 1970 ("0").
    if isinstance(value, str) and not _ISO_DAY.match(value):
        raise ValueError("must be a date written YYYY-MM-DD")
    return value


Day = Annotated[date, BeforeValidator(_iso_day)]


class UsageQuery(BaseModel):
    """A period of UTC days, both ends included."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: Day | None = Field(None, alias="from", description="YYYY-MM-DD; default: to - 29 days")
    to: Day | None = Field(None, description="YYYY-MM-DD; default: today (UTC)")

    def period(self, today: date) -> tuple[date, date]:
        """The first and last day; 400 when they are out of order or too far apart."""
        end = self.to or today
        start = self.from_ or end - timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            raise BadRequest(f"'from' ({start}) is after 'to' ({end})")
        if (end - start).days >= MAX_DAYS:
            raise BadRequest(f"A period is at most {MAX_DAYS} days; ask for a shorter one")
        return start, end


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
