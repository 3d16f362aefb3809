"""Usage accounting (SPEC section 16): one atomic upsert per LLM call, and the usage reports.

Counters change only through `record`'s single INSERT ... ON CONFLICT DO UPDATE, committed on a
connection of its own (on PostgreSQL outside any transaction: no BEGIN or COMMIT round trip),
so they stay exact with any number of processes and a request's rollback can't undo a count.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from flask import current_app
from sqlalchemy import Date, Float, Integer, String, bindparam, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError

from chatapp.db_types import utcnow
from chatapp.errors import BadRequest, UserNotFound
from chatapp.extensions import db, for_statements_alone
from chatapp.models import UsageDaily, User
from chatapp.providers.providers_file import Price

log = logging.getLogger(__name__)

ACCOUNTING = "USAGE_ACCOUNTING"  # an app override, not a setting: bench/ turns it off with False
DEFAULT_DAYS = 30  # a report without `from`: the last 30 days, today (UTC) included
MAX_DAYS = 3660  # a period longer than about ten years is a typo
TABLE = UsageDaily.__table__
DIALECT_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
COUNTERS = ("requests", "errors", "prompt_tokens", "completion_tokens", "cost")
COUNTER_TYPES = {"cost": Float()}
# A provider's name before a 200-character model name is longer than the column: cut to fit,
# or PostgreSQL refuses the row and the call goes uncounted.
MODEL_CHARS = TABLE.c.model.type.length


def today() -> date:
    """The current UTC day: usage rows and quotas count by it."""
    return utcnow().date()


@dataclass(frozen=True)
class Call:
    """What one LLM call used, as counted in a usage row."""

    model: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    failed: bool = False
    cost: float = 0.0


def cost_of(price: Price | None, prompt_tokens: int, completion_tokens: int) -> float:
    """The call's cost from the providers file's price per 1000 tokens; 0 without one."""
    if price is None:
        return 0.0
    per_1k = prompt_tokens * price.prompt_per_1k + completion_tokens * price.completion_per_1k
    return per_1k / 1000


@cache
def upsert(dialect: str, prefix: str = "") -> Any:
    """The one statement a call costs, built once per dialect with bound parameters, each
    named with `prefix` (so that it can join another statement's parameters)."""
    row = {
        "user_id": bindparam(f"{prefix}user_id", type_=Integer),
        "day": bindparam(f"{prefix}day", type_=Date),
        "model": bindparam(f"{prefix}model", type_=String),
        **{
            name: bindparam(f"{prefix}{name}", type_=COUNTER_TYPES.get(name, Integer()))
            for name in COUNTERS
        },
    }
    statement = DIALECT_INSERTS[dialect](TABLE).values(row)
    added = {name: TABLE.c[name] + statement.excluded[name] for name in COUNTERS}
    return statement.on_conflict_do_update(
        index_elements=[TABLE.c.user_id, TABLE.c.day, TABLE.c.model], set_=added
    )


def upsert_values(user_id: int, call: Call, prefix: str = "") -> dict[str, Any]:
    """`upsert`'s parameters for one call of the user's, today (UTC)."""
    values = {
        "user_id": user_id,
        "day": today(),
        "model": call.model[:MODEL_CHARS],
        "requests": 1,
        "errors": int(call.failed),
        "prompt_tokens": call.prompt_tokens,
        "completion_tokens": call.completion_tokens,
        "cost": call.cost,
    }
    if not prefix:  # record()'s, on every call
        return values
    return {f"{prefix}{name}": value for name, value in values.items()}


def accounting() -> bool:
    return current_app.config.get(ACCOUNTING, True)


def record(user_id: int, call: Call) -> None:
    """Count the call for its user, today (UTC) and model; a database failure is only logged,
    since the answer is already the user's."""
    if not accounting():
        return
    engine = db.engine
    try:
        with for_statements_alone(engine).begin() as connection:
            connection.execute(upsert(engine.dialect.name), upsert_values(user_id, call))
    except SQLAlchemyError as exc:
        log.error("could not record the usage of a call to %s: %s", call.model, exc)


class HeldCall:
    """A turn's call, counted by the statement that stores the turn where one can (a round
    trip less), else alone once the turn is over: exactly once either way.

    `hold` takes `record`'s place for the call's meter. The turn's write takes the held call's
    values (`pending`) and says when it committed them (`written`); `write`, as the turn ends,
    records whatever is still held: the turn failed, or was stored without it.
    """

    def __init__(self) -> None:
        self._held: tuple[int, Call] | None = None

    def hold(self, user_id: int, call: Call) -> None:
        self._held = (user_id, call)

    def pending(self, prefix: str) -> dict[str, Any] | None:
        """The held call's upsert parameters, named with `prefix`; None if none is to count."""
        if self._held is None or not accounting():
            return None
        return upsert_values(*self._held, prefix=prefix)

    def written(self) -> None:
        self._held = None

    def write(self) -> None:
        if self._held is not None:
            record(*self._held)
            self._held = None


@dataclass(frozen=True)
class UsageRow:
    """One user's usage of one model on one day, or totals over a period (date and model None)."""

    date: date | None
    model: str | None
    requests: int
    errors: int
    prompt_tokens: int
    completion_tokens: int
    cost: float


@dataclass(frozen=True)
class UserTotals:
    username: str
    totals: UsageRow


def _sums() -> list[Any]:
    return [func.coalesce(func.sum(TABLE.c[name]), 0).label(name) for name in COUNTERS]


def days_of(user_id: int, start: date, end: date) -> list[UsageRow]:
    """The user's rows from `start` to `end` (both included), by day and model."""
    query = (
        select(TABLE.c.day, TABLE.c.model, *(TABLE.c[name] for name in COUNTERS))
        .where(TABLE.c.user_id == user_id, TABLE.c.day.between(start, end))
        .order_by(TABLE.c.day, TABLE.c.model)
    )
    return [UsageRow(*row) for row in db.session.execute(query)]


def total_of(rows: list[UsageRow]) -> UsageRow:
    sums = {name: sum(getattr(row, name) for row in rows) for name in COUNTERS}
    return UsageRow(date=None, model=None, **sums)


def per_user(start: date, end: date, username: str | None = None) -> list[UserTotals]:
    """Each user's totals from `start` to `end`; with `username`, that user's alone (404 if none).

    Users with no call in the period are listed with zeros, so an admin sees everyone.
    """
    joined = TABLE.c.user_id == User.id
    query = (
        select(User.username, *_sums())
        .outerjoin(TABLE, joined & TABLE.c.day.between(start, end))
        .group_by(User.username)
        .order_by(User.username)
    )
    if username is not None:
        query = query.where(User.username == username)
    rows = db.session.execute(query).all()
    if username is not None and not rows:
        raise UserNotFound(username)
    return [UserTotals(row.username, UsageRow(None, None, *row[1:])) for row in rows]


@dataclass(frozen=True)
class Report:
    """Usage over a period of UTC days (both ends included): its rows and their totals."""

    start: date
    end: date
    rows: list[UsageRow]
    totals: UsageRow


@dataclass(frozen=True)
class UsersReport:
    start: date
    end: date
    users: list[UserTotals]
    totals: UsageRow


def period(start: date | None, end: date | None) -> tuple[date, date]:
    """The days asked for, the defaults filled in; 400 when out of order or too far apart."""
    end = end or today()
    start = start or _days_before(end, DEFAULT_DAYS - 1)
    if start > end:
        raise BadRequest(f"'from' ({start}) is after 'to' ({end})")
    if (end - start).days >= MAX_DAYS:
        raise BadRequest(f"A period is at most {MAX_DAYS} days; ask for a shorter one")
    return start, end


def _days_before(day: date, days: int) -> date:
    """`days` before `day`, or the first day a date can be (`to=0001-01-05` has no 29 before)."""
    return date.fromordinal(max(1, day.toordinal() - days))


def user_report(user_id: int, start: date | None, end: date | None) -> Report:
    """A user's usage by day and model (GET /me/usage)."""
    first, last = period(start, end)
    rows = days_of(user_id, first, last)
    return Report(first, last, rows, total_of(rows))


def users_report(start: date | None, end: date | None, username: str | None) -> UsersReport:
    """Every user's totals, or one user's (GET /usage)."""
    first, last = period(start, end)
    listed = per_user(first, last, username)
    return UsersReport(first, last, listed, total_of([user.totals for user in listed]))
