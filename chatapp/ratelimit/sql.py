"""The storage's SQL on the database clock, built once per dialect with bound parameters."""

from __future__ import annotations

from functools import cache, cached_property, partial
from typing import Any

from sqlalchemy import (
    BigInteger,
    Float,
    Integer,
    String,
    bindparam,
    case,
    cast,
    delete,
    func,
    select,
    true,
    union_all,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import asyncpg
from sqlalchemy.engine import Connection, CursorResult
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import CTE, ColumnElement, FunctionElement, Select

from chatapp.models import RateLimit
from chatapp.services.keys import OWNER_ROWS

TABLE = RateLimit.__table__
DIALECT_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
ROW_COLUMNS = ["key", "user_key", "endpoint", "count", "window_seconds", "expires_at"]
LABEL_CHARS = 128  # the width of the user_key and endpoint columns

# Building these expressions costs far more than running them, so each statement is made once
# and run with a dict of these parameters.
ROW_KEY = bindparam("row_key", type_=String)
USER_KEY = bindparam("user_key", type_=String)
ENDPOINT = bindparam("endpoint", type_=String)
AMOUNT = bindparam("amount", type_=Integer)
EXPIRY = bindparam("expiry", type_=Integer)
BATCH_ROWS = bindparam("batch_rows", type_=Integer)


class EpochNow(FunctionElement):
    """The database's clock in epoch seconds: one clock for every app process and host.

    PostgreSQL's statement_timestamp() and SQLite's 'now' both stay fixed for the whole
    statement, so every use of it inside one upsert agrees.
    """

    type = Float()
    inherit_cache = True


@compiles(EpochNow, "postgresql")
def _epoch_now_postgresql(element: EpochNow, compiler: Any, **kw: Any) -> str:
    return "CAST(EXTRACT(EPOCH FROM statement_timestamp()) AS DOUBLE PRECISION)"


@compiles(EpochNow, "sqlite")
def _epoch_now_sqlite(element: EpochNow, compiler: Any, **kw: Any) -> str:
    # unixepoch('subsec') needs SQLite 3.42; julianday('now') has millisecond precision.
    return "((julianday('now') - 2440587.5) * 86400.0)"


class WindowIndex(FunctionElement):
    """floor(now / window_seconds) as an integer: which aligned window `now` falls in."""

    type = BigInteger()
    inherit_cache = True


@compiles(WindowIndex, "postgresql")
def _window_index_postgresql(element: WindowIndex, compiler: Any, **kw: Any) -> str:
    now, seconds = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"CAST(floor({now} / {seconds}) AS BIGINT)"


@compiles(WindowIndex, "sqlite")
def _window_index_sqlite(element: WindowIndex, compiler: Any, **kw: Any) -> str:
    now, seconds = (compiler.process(arg, **kw) for arg in element.clauses)
    return f"CAST({now} / {seconds} AS INTEGER)"  # truncation is floor for positive values


class SlidingHit:
    """The bound parameters of one sliding-window hit, and the expressions built on them.

    `prefix` is the counter's key up to its "/"; the window index follows it. The hits of one
    batch are numbered, so that each has parameters of its own (`prefix_0`, `prefix_1`, ...).
    """

    def __init__(self, number: int | None = None) -> None:
        suffix = "" if number is None else f"_{number}"
        self.suffix = suffix
        self.prefix = bindparam("prefix" + suffix, type_=String)
        self.user_key = bindparam("user_key" + suffix, type_=String)
        self.endpoint = bindparam("endpoint" + suffix, type_=String)
        self.amount = bindparam("amount" + suffix, type_=Integer)
        self.expiry = bindparam("expiry" + suffix, type_=Integer)
        self.limit = bindparam("limit" + suffix, type_=Integer)

    def window(self) -> ColumnElement[int]:
        return WindowIndex(EpochNow(), self.expiry)

    def window_key(self, offset: int) -> ColumnElement[str]:
        """The key of the current window (0) or of the previous one (-1)."""
        return self.prefix + cast(self.window() + offset, String)

    def previous_count(self) -> Any:
        # An alias, so that the subquery reads the table itself, not the row being upserted.
        previous = TABLE.alias("previous")
        return (
            select(previous.c.count).where(previous.c.key == self.window_key(-1)).scalar_subquery()
        )

    def current_count(self) -> ColumnElement[int]:
        current = TABLE.alias("current")
        count = select(current.c.count).where(current.c.key == self.window_key(0))
        return func.coalesce(count.scalar_subquery(), 0)

    def fits(self, count: ColumnElement[int] | int) -> ColumnElement[bool]:
        """Whether `amount` more fits, with the previous window's count scaled by how much of
        it the sliding window still covers."""
        overlap = ((self.window() + 1) * self.expiry - EpochNow()) / self.expiry
        carried = func.coalesce(self.previous_count(), 0) * overlap
        return carried + count + self.amount < self.limit + 1

    def new_row(self) -> Select[Any]:
        return select(
            self.window_key(0),
            self.user_key,
            self.endpoint,
            self.amount,
            self.expiry,
            cast((self.window() + 2) * self.expiry, Float),  # kept while it is "previous" too
        )

    def values(self, key: str, limit: int, expiry: int, amount: int) -> dict[str, Any]:
        """The parameters of a hit on the counter `key` (without its window index)."""
        names = {"prefix": f"{key}/", "limit": limit, "expiry": expiry, "amount": amount}
        names |= labels_of(key)
        return {name + self.suffix: value for name, value in names.items()}


def labels_of(key: str) -> dict[str, str | None]:
    """The user and endpoint of a counter key, kept in their own columns for reporting.

    Counter keys look like `LIMITER/<who>/<scope>/<multiples>/<granularity>`.
    """
    parts = key.split("/")
    if parts[0] != "LIMITER" or len(parts) < 5:
        return {"user_key": None, "endpoint": None}
    return {"user_key": parts[1][:LABEL_CHARS], "endpoint": parts[2][:LABEL_CHARS]}


SLIDING = SlidingHit()  # the parameters of a hit on its own


@cache
def increment(dialect: str) -> Any:
    """Fixed window: start a new window when the old one is over, else add to it."""
    now = EpochNow()
    row = [ROW_KEY, USER_KEY, ENDPOINT, AMOUNT, EXPIRY, now + EXPIRY]
    statement = DIALECT_INSERTS[dialect](TABLE).values(dict(zip(ROW_COLUMNS, row, strict=True)))
    expired = TABLE.c.expires_at <= now
    restart_or_add = {
        "count": case((expired, statement.excluded.count), else_=TABLE.c.count + AMOUNT),
        "expires_at": case((expired, statement.excluded.expires_at), else_=TABLE.c.expires_at),
    }
    statement = statement.on_conflict_do_update(index_elements=[TABLE.c.key], set_=restart_or_add)
    return statement.returning(TABLE.c.count, (TABLE.c.expires_at - now).label("seconds_left"))


class OwnedHit(SlidingHit):
    """A hit on the counter of the user the statement's `owner` CTE found (keys.OWNER_ROWS).

    The counter's key is the user's id between two bound parts (`prefix_N`, `prefix_tail_N`), its
    user label `user_key_N` and the id; `user_limited` hits take the user's own hourly limit
    when set, `limit_N` otherwise, as limiter.hourly_limit_for does.
    """

    def __init__(self, number: int, owner: CTE, user_limited: bool) -> None:
        super().__init__(number)
        user_id = cast(select(owner.c.id).scalar_subquery(), String)
        self.prefix = self.prefix + user_id + bindparam("prefix_tail" + self.suffix, type_=String)
        self.user_key = self.user_key + user_id
        if user_limited:
            own = select(func.nullif(owner.c.rate_limit_per_hour, 0)).scalar_subquery()
            self.limit = func.coalesce(own, self.limit)


def _acquire_one(
    dialect: str, hit: SlidingHit, after: CTE | None = None, only_if: Any = None
) -> Any:
    """Add `amount` to the current window only if it still fits (and, in a batch, only if the
    hit `after` was written; with `only_if`, only if that holds). Both the insert and the update
    are conditional, so a refused hit writes nothing and returns no row."""
    row = hit.new_row().where(hit.fits(0))
    if after is not None:
        row = row.where(select(after.c.key).exists())
    if only_if is not None:
        row = row.where(only_if)
    statement = DIALECT_INSERTS[dialect](TABLE).from_select(ROW_COLUMNS, row)
    statement = statement.on_conflict_do_update(
        index_elements=[TABLE.c.key],
        set_={"count": TABLE.c.count + hit.amount},
        where=hit.fits(TABLE.c.count),
    )
    return statement.returning(
        TABLE.c.key,
        TABLE.c.count,
        (TABLE.c.expires_at - EpochNow()).label("seconds_left"),
        hit.previous_count().label("previous"),
    )


@cache
def acquire(dialect: str) -> Any:
    """Sliding window counter: one hit."""
    return _acquire_one(dialect, SLIDING)


@cache
def acquire_batch(dialect: str, size: int) -> Any:
    """Sliding window counter: `size` hits on different counters in one statement, each
    written only if it and every hit before it fit, as Flask-Limiter stops at the first limit
    a request breaks. One row back for each hit written."""
    hits = [SlidingHit(number) for number in range(size)]
    if dialect == "postgresql":
        return _acquire_chained(hits)
    return _acquire_together(dialect, hits)


def _acquire_chained(hits: list[SlidingHit]) -> Any:
    """PostgreSQL: a chain of data-modifying CTEs, each hit's upsert run only if the one
    before it wrote its row, so even a concurrent hit that takes the last place is seen."""
    written: list[CTE] = []
    for number, hit in enumerate(hits):
        after = written[-1] if written else None
        written.append(_acquire_one("postgresql", hit, after).cte(f"hit_{number}"))
    return union_all(*(select(cte) for cte in written))


@cache
def owner_and_hits(user_limited: tuple[bool, ...]) -> Any:
    """PostgreSQL: find a key's owner and write the owner's hits, in one statement.

    The hits are chained as in `_acquire_chained`, and written only for an active owner. The
    owner's row comes back joined to each hit written: one row with no hit if none was, and no
    row at all for an unknown or revoked key.
    """
    owner = OWNER_ROWS.cte("owner")
    active = select(owner.c.is_active).scalar_subquery()
    written: list[CTE] = []
    for number, own_limit in enumerate(user_limited):
        hit = OwnedHit(number, owner, own_limit)
        after = written[-1] if written else None
        written.append(_acquire_one("postgresql", hit, after, active).cte(f"hit_{number}"))
    hits = union_all(*(select(cte) for cte in written)).subquery("hits")
    return select(owner, hits).select_from(owner.outerjoin(hits, true()))


def _acquire_together(dialect: str, hits: list[SlidingHit]) -> Any:
    """SQLite: one INSERT ... SELECT of every hit that fits. SQLite takes its write lock
    before the statement reads, so the counts it reads are the ones it updates."""
    rows = [
        hit.new_row().where(*(earlier.fits(earlier.current_count()) for earlier in hits[: n + 1]))
        for n, hit in enumerate(hits)
    ]
    statement = DIALECT_INSERTS[dialect](TABLE).from_select(ROW_COLUMNS, union_all(*rows))
    statement = statement.on_conflict_do_update(
        index_elements=[TABLE.c.key], set_={"count": TABLE.c.count + statement.excluded.count}
    )
    previous = case(
        *((TABLE.c.key == hit.window_key(0), hit.previous_count()) for hit in hits), else_=None
    )
    return statement.returning(
        TABLE.c.key,
        TABLE.c.count,
        (TABLE.c.expires_at - EpochNow()).label("seconds_left"),
        previous.label("previous"),
    )


class Prepared:
    """A statement run on every hit; PostgreSQL plans it once per connection, not each time.

    PostgreSQL plans a statement whenever it receives its text, and planning the sliding-window
    upsert costs it more than running it. So on PostgreSQL the statement is prepared on its
    first use on a connection (`PREPARE`, which outlives transactions) and then sent as
    `EXECUTE` with its parameters. Other databases run the statement itself.
    """

    def __init__(self, name: str, build: Any) -> None:
        self.name = name
        self._build = build  # dialect name -> the statement

    def execute(self, connection: Connection, parameters: dict[str, Any]) -> CursorResult:
        if connection.dialect.name != "postgresql":
            return connection.execute(self._build(connection.dialect.name), parameters)
        prepared = connection.info.setdefault("chatapp_prepared", set())  # cleared on reconnect
        if self.name not in prepared:
            connection.exec_driver_sql(f"PREPARE {self.name} AS {self._compiled}")
            prepared.add(self.name)
        values = self._compiled.construct_params(parameters)
        arguments = tuple(values[name] for name in self._compiled.positiontup or ())
        return connection.exec_driver_sql(self._execute_sql, arguments)

    @cached_property
    def _compiled(self) -> Any:
        # asyncpg's compiler writes $1::TYPE placeholders, the form PREPARE takes.
        return self._build("postgresql").compile(dialect=asyncpg.dialect())

    @cached_property
    def _execute_sql(self) -> str:
        placeholders = ", ".join(["%s"] * len(self._compiled.positiontup or ()))
        return f"EXECUTE {self.name}({placeholders})"


INCREMENT = Prepared("chatapp_increment", increment)
ACQUIRE = Prepared("chatapp_acquire", acquire)


@cache
def prepared_batch(size: int) -> Prepared:
    return Prepared(f"chatapp_acquire_{size}", partial(acquire_batch, size=size))


@cache
def prepared_owner_and_hits(user_limited: tuple[bool, ...]) -> Prepared:
    shape = "".join("u" if own_limit else "f" for own_limit in user_limited)
    return Prepared(f"chatapp_owner_hits_{shape}", lambda _dialect: owner_and_hits(user_limited))


READ_FIXED_WINDOW = select(
    TABLE.c.count, (TABLE.c.expires_at - EpochNow()).label("seconds_left")
).where(TABLE.c.key == ROW_KEY, TABLE.c.expires_at > EpochNow())

READ_SLIDING_WINDOW = select(
    SLIDING.current_count().label("count"),
    ((SLIDING.window() + 2) * SLIDING.expiry - EpochNow()).label("seconds_left"),
    func.coalesce(SLIDING.previous_count(), 0).label("previous"),
)

CLEAR_KEY = delete(TABLE).where(TABLE.c.key == ROW_KEY)
CLEAR_SLIDING_WINDOW = delete(TABLE).where(
    TABLE.c.key.in_([SLIDING.window_key(-1), SLIDING.window_key(0)])
)
CLEAR_ALL = delete(TABLE)
PROBE = select(TABLE.c.key).where(TABLE.c.key == "").limit(1)

# Up to `batch_rows` expired counters; the alias keeps the subquery from correlating.
_EXPIRED = TABLE.alias("expired")
PURGE_BATCH = delete(TABLE).where(
    TABLE.c.key.in_(
        select(_EXPIRED.c.key).where(_EXPIRED.c.expires_at < EpochNow()).limit(BATCH_ROWS)
    )
)
