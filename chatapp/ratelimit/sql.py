"""The storage's SQL on the database clock, built once per dialect with bound parameters."""

from __future__ import annotations

from functools import cache, cached_property
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
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import asyncpg
from sqlalchemy.engine import Connection, CursorResult
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

from chatapp.models import RateLimit

TABLE = RateLimit.__table__
DIALECT_INSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
ROW_COLUMNS = ["key", "user_key", "endpoint", "count", "window_seconds", "expires_at"]

# Building these expressions costs far more than running them, so each statement is made once
# and run with a dict of these parameters. `prefix` is a sliding window's key up to its "/".
ROW_KEY = bindparam("row_key", type_=String)
PREFIX = bindparam("prefix", type_=String)
USER_KEY = bindparam("user_key", type_=String)
ENDPOINT = bindparam("endpoint", type_=String)
AMOUNT = bindparam("amount", type_=Integer)
EXPIRY = bindparam("expiry", type_=Integer)
LIMIT = bindparam("limit", type_=Integer)
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


def _window() -> ColumnElement[int]:
    return WindowIndex(EpochNow(), EXPIRY)


def _window_key(offset: int) -> ColumnElement[str]:
    """The key of the current window (0) or of the previous one (-1)."""
    return PREFIX + cast(_window() + offset, String)


def _previous_count() -> Any:
    # An alias, so that the subquery reads the table itself, not the row being upserted.
    previous = TABLE.alias("previous")
    return select(previous.c.count).where(previous.c.key == _window_key(-1)).scalar_subquery()


def _carried_count() -> ColumnElement[float]:
    """The previous window's count, scaled by how much of it the sliding window still covers."""
    overlap = ((_window() + 1) * EXPIRY - EpochNow()) / EXPIRY
    return func.coalesce(_previous_count(), 0) * overlap


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


@cache
def acquire(dialect: str) -> Any:
    """Sliding window counter: add `amount` to the current window only if it still fits.

    The weighted count is the carried previous count plus the current window's. Both the insert
    and the update are conditional, so a refused hit writes nothing and returns no row.
    """
    row = select(
        _window_key(0),
        USER_KEY,
        ENDPOINT,
        AMOUNT,
        EXPIRY,
        cast((_window() + 2) * EXPIRY, Float),  # kept while it is the "previous" window too
    ).where(_carried_count() + AMOUNT < LIMIT + 1)
    statement = DIALECT_INSERTS[dialect](TABLE).from_select(ROW_COLUMNS, row)
    statement = statement.on_conflict_do_update(
        index_elements=[TABLE.c.key],
        set_={"count": TABLE.c.count + AMOUNT},
        where=_carried_count() + TABLE.c.count + AMOUNT < LIMIT + 1,
    )
    return statement.returning(
        TABLE.c.count,
        (TABLE.c.expires_at - EpochNow()).label("seconds_left"),
        _previous_count().label("previous"),
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

READ_FIXED_WINDOW = select(
    TABLE.c.count, (TABLE.c.expires_at - EpochNow()).label("seconds_left")
).where(TABLE.c.key == ROW_KEY, TABLE.c.expires_at > EpochNow())

READ_SLIDING_WINDOW = select(
    func.coalesce(
        select(TABLE.c.count).where(TABLE.c.key == _window_key(0)).scalar_subquery(), 0
    ).label("count"),
    ((_window() + 2) * EXPIRY - EpochNow()).label("seconds_left"),
    func.coalesce(_previous_count(), 0).label("previous"),
)

CLEAR_KEY = delete(TABLE).where(TABLE.c.key == ROW_KEY)
CLEAR_SLIDING_WINDOW = delete(TABLE).where(TABLE.c.key.in_([_window_key(-1), _window_key(0)]))
CLEAR_ALL = delete(TABLE)
PROBE = select(TABLE.c.key).where(TABLE.c.key == "").limit(1)

# Up to `batch_rows` expired counters; the alias keeps the subquery from correlating.
_EXPIRED = TABLE.alias("expired")
PURGE_BATCH = delete(TABLE).where(
    TABLE.c.key.in_(
        select(_EXPIRED.c.key).where(_EXPIRED.c.expires_at < EpochNow()).limit(BATCH_ROWS)
    )
)
