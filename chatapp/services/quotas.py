"""Token quotas per UTC day and month (SPEC section 16), checked before the provider is called.

A call starts while the tokens used so far are under the quota, and completes whatever it
uses: the call that crosses the line is answered, the next one refused. The tokens used are
read from usage_daily, whose counters only the atomic upsert of services/usage.py changes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import Integer, bindparam, case, func, select

from chatapp.db_types import utcnow
from chatapp.errors import QuotaExceeded
from chatapp.extensions import db
from chatapp.models import UsageDaily, User

TABLE = UsageDaily.__table__
PERIODS = ("day", "month")  # in the order they end: a month never ends before its day


@dataclass(frozen=True)
class Account:
    """Whose LLM call this is and the quotas that apply (None: unlimited).

    Read from the user row authentication loaded, before the request's commit expires it, so
    that a user without quotas costs no statement at all.
    """

    user_id: int
    per_day: int | None
    per_month: int | None

    @property
    def limited(self) -> bool:
        return self.per_day is not None or self.per_month is not None

    def quota(self, period: str) -> int | None:
        return self.per_day if period == "day" else self.per_month


def account_of(user: User) -> Account:
    """The user's own quotas, or TOKEN_QUOTA_PER_DAY and TOKEN_QUOTA_PER_MONTH."""
    config = current_app.config
    return Account(
        user_id=user.id,
        per_day=user.token_quota_per_day or config["TOKEN_QUOTA_PER_DAY"],
        per_month=user.token_quota_per_month or config["TOKEN_QUOTA_PER_MONTH"],
    )


def period_start(period: str, day: date) -> date:
    return day if period == "day" else day.replace(day=1)


def period_end(period: str, day: date) -> datetime:
    """When the period that holds `day` ends: the next UTC midnight or first of a month."""
    if period == "day":
        following = day + timedelta(days=1)
    else:
        following = (day.replace(day=28) + timedelta(days=4)).replace(day=1)
    return datetime(following.year, following.month, following.day, tzinfo=UTC)


def _tokens() -> Any:
    return TABLE.c.prompt_tokens + TABLE.c.completion_tokens


# One statement for both periods: today's tokens and this month's.
_USED = select(
    func.coalesce(func.sum(case((TABLE.c.day == bindparam("day"), _tokens()), else_=0)), 0),
    func.coalesce(func.sum(_tokens()), 0),
).where(
    TABLE.c.user_id == bindparam("user_id", type_=Integer),
    TABLE.c.day >= bindparam("month_start"),
)


def used(user_id: int, day: date) -> dict[str, int]:
    """Tokens the user used on `day` and in its month, in one short read of its own."""
    params = {"user_id": user_id, "day": day, "month_start": period_start("month", day)}
    with db.engine.connect() as connection:
        on_day, in_month = connection.execute(_USED, params).one()
    return {"day": int(on_day), "month": int(in_month)}


def check(account: Account) -> None:
    """429 quota_exceeded when a quota is spent, with Retry-After until its period ends."""
    if not account.limited:
        return
    now = utcnow()
    spent = used(account.user_id, now.date())
    over = [
        (period, quota)
        for period in PERIODS
        if (quota := account.quota(period)) is not None and spent[period] >= quota
    ]
    if over:
        # Both spent: wait for the month's end, since a retry at midnight would be refused.
        period, quota = over[-1]
        wait = (period_end(period, now.date()) - now).total_seconds()
        raise QuotaExceeded(period, quota, max(1, math.ceil(wait)))


@dataclass(frozen=True)
class QuotaStatus:
    """A quota and what is left of it; all None but `resets_at` for a user without quotas."""

    limit: int | None
    used: int | None
    remaining: int | None
    resets_at: datetime


def report(user: User) -> dict[str, QuotaStatus]:
    """Each period's quota, the tokens used in it and what is left, for GET /me.

    A user without quotas costs no statement: GET /me/usage has their usage.
    """
    account = account_of(user)
    day = utcnow().date()
    spent = used(user.id, day) if account.limited else {period: None for period in PERIODS}
    return {
        period: QuotaStatus(
            limit=account.quota(period),
            used=spent[period],
            remaining=_left(account.quota(period), spent[period]),
            resets_at=period_end(period, day),
        )
        for period in PERIODS
    }


def _left(quota: int | None, spent: int | None) -> int | None:
    return None if quota is None or spent is None else max(0, quota - spent)
