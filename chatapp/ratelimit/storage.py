"""A `limits` storage over the `rate_limits` table: one atomic upsert per hit, on the DB clock."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import current_app, g, has_app_context
from limits.errors import ConfigurationError
from limits.storage import SlidingWindowCounterSupport, Storage
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from chatapp.ratelimit import sql

log = logging.getLogger(__name__)

SCHEME = "chatapp-db"
ENGINE_KEY = "chatapp.rate_limit_engine"  # the current app's storage engine, in app.extensions


def storage_engine(app_engine: Engine, engine_options: dict[str, Any]) -> Engine:
    """The limiter's own pool on the app's database, closed whenever the app's is disposed.

    Autocommit and no pre-ping make a hit one round trip instead of four (ping, BEGIN, the
    upsert, COMMIT). A connection that died with the server fails one hit, which Flask-Limiter
    then serves from memory while the pool reconnects.
    """
    url = app_engine.url
    if url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:"):
        return app_engine  # an in-memory database exists once per connection: share it
    options = {name: value for name, value in engine_options.items() if name != "pool_pre_ping"}
    engine = create_engine(url, isolation_level="AUTOCOMMIT", **options)
    if url.get_backend_name() == "postgresql":
        event.listen(engine, "connect", _asynchronous_commit)
    event.listen(app_engine, "engine_disposed", lambda _: engine.dispose())
    return engine


def _asynchronous_commit(dbapi_connection: Any, connection_record: Any) -> None:
    """A hit doesn't wait for its WAL flush. The count stays atomic and visible at once; only a
    database crash can forget the last fraction of a second of hits, which a counter can bear."""
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO off")


def current_storage_engine() -> Engine:
    """For RATELIMIT_STORAGE_OPTIONS: resolved on each use, so each app uses its own."""
    return current_app.extensions[ENGINE_KEY]


def counter_key(key: str) -> str:
    """The limits key without the limit's amount, so that a changed limit keeps its count.

    Flask-Limiter keys look like `LIMITER/<who>/<scope>/<amount>/<multiples>/<granularity>`.
    """
    parts = key.split("/")
    if parts[0] != "LIMITER" or len(parts) < 6:
        return key
    del parts[-3]
    return "/".join(parts)


@dataclass(frozen=True)
class Hit:
    """A sliding-window hit a request is about to make: the counter key without its window."""

    key: str
    limit: int
    expiry: int
    amount: int = 1


@dataclass(frozen=True)
class UserHit:
    """A hit on a user's counter, planned before the user is known: its key and user label
    around the user's id. `user_limited`: the user's own hourly limit, when set, over `limit`."""

    key_head: str
    key_tail: str
    label_head: str
    endpoint: str
    limit: int
    expiry: int
    user_limited: bool
    amount: int = 1

    def values(self, number: int) -> dict[str, Any]:
        suffix = f"_{number}"
        names = {
            "prefix": self.key_head,
            "prefix_tail": f"{self.key_tail}/",
            "user_key": self.label_head,
            "endpoint": self.endpoint,
            "limit": self.limit,
            "expiry": self.expiry,
            "amount": self.amount,
        }
        return {name + suffix: value for name, value in names.items()}


@dataclass(frozen=True)
class Window:
    """What one query told about a counter, with the local time it was read at."""

    count: int
    seconds_left: float
    previous_count: int = 0
    read_at: float = 0.0

    def left(self, seconds: float) -> float:
        return max(0.0, seconds - (time.time() - self.read_at))


class DatabaseStorage(Storage, SlidingWindowCounterSupport):
    """Counters in `rate_limits`, for the fixed-window and sliding-window-counter strategies.

    Every write is one `INSERT ... ON CONFLICT DO UPDATE ... RETURNING`, a transaction of its
    own outside the request's session, so that it is exact across processes and no request
    rollback undoes it. The window a hit returns is kept for the rest of the request, so the
    X-RateLimit headers need no second query.
    """

    STORAGE_SCHEME = [SCHEME]

    def __init__(
        self,
        uri: str | None = None,
        wrap_exceptions: bool = False,
        engine: Engine | Callable[[], Engine] | None = None,
        **options: Any,
    ) -> None:
        if engine is None:
            raise ConfigurationError(f"{SCHEME}:// needs RATELIMIT_STORAGE_OPTIONS['engine']")
        self._engine = engine
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return SQLAlchemyError

    @property
    def engine(self) -> Engine:
        return self._engine if isinstance(self._engine, Engine) else self._engine()

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        row_key = counter_key(key)
        parameters = {"row_key": row_key, "amount": amount, "expiry": expiry}
        parameters |= sql.labels_of(row_key)
        row = self._run(sql.INCREMENT, parameters, write=True)
        _remember(row_key, Window(row.count, row.seconds_left, read_at=time.time()))
        return row.count

    def get(self, key: str) -> int:
        return self._fixed_window(counter_key(key)).count

    def get_expiry(self, key: str) -> float:
        window = self._fixed_window(counter_key(key))
        return time.time() + window.left(window.seconds_left)

    def check(self) -> bool:
        """Healthy when the table answers; Flask-Limiter asks this before leaving its fallback."""
        try:
            with self.engine.connect() as connection:
                connection.execute(sql.PROBE)
        except SQLAlchemyError as exc:
            log.warning("rate limit storage still unavailable: %s", exc)
            return False
        return True

    def reset(self) -> int | None:
        return self._run(sql.CLEAR_ALL, {}, write=True)

    def clear(self, key: str) -> None:
        row_key = counter_key(key)
        _forget(row_key)
        self._run(sql.CLEAR_KEY, {"row_key": row_key}, write=True)

    def acquire_sliding_window_entry(
        self, key: str, limit: int, expiry: int, amount: int = 1
    ) -> bool:
        if amount > limit:
            return False
        base = counter_key(key)
        planned = _planned_outcome(Hit(base, limit, expiry, amount))
        if planned is not None:
            return planned
        row = self._run(sql.ACQUIRE, sql.SLIDING.values(base, limit, expiry, amount), write=True)
        if row is None:
            return False  # the statement found no room and wrote nothing
        _remember(base, _window_of(row))
        return True

    def acquire_in_advance(self, hits: list[Hit]) -> None:
        """Send the hits a request is about to make, in order, as one statement.

        Each is written only if it and all before it fit. Flask-Limiter then asks for them
        one by one, and `acquire_sliding_window_entry` answers from what this statement did.
        """
        parameters: dict[str, Any] = {}
        for number, hit in enumerate(hits):
            sliding = sql.SlidingHit(number)
            parameters |= sliding.values(hit.key, hit.limit, hit.expiry, hit.amount)
        rows = self._run(sql.prepared_batch(len(hits)), parameters, write=True, every_row=True)
        note_outcomes(hits, rows)

    def find_owner_and_hit(self, digest: str, hits: tuple[UserHit, ...]) -> list[Any]:
        """PostgreSQL: the rows of `sql.owner_and_hits`, the key with this digest found and its
        owner's hits written in one statement; `note_outcomes` takes them once the user is known.
        """
        parameters: dict[str, Any] = {"digest": digest}
        for number, hit in enumerate(hits):
            parameters |= hit.values(number)
        statement = sql.prepared_owner_and_hits(tuple(hit.user_limited for hit in hits))
        return self._run(statement, parameters, write=True, every_row=True)

    def get_sliding_window(self, key: str, expiry: int) -> tuple[int, float, int, float]:
        base = counter_key(key)
        window = _recall(base) or self._read_sliding_window(base, expiry)
        current_left = window.left(window.seconds_left)
        # The previous window ends when the current one is one window from its own end.
        previous_left = max(0.0, current_left - expiry) if window.previous_count else 0.0
        return window.previous_count, previous_left, window.count, current_left

    def clear_sliding_window(self, key: str, expiry: int) -> None:
        base = counter_key(key)
        _forget(base)
        self._run(sql.CLEAR_SLIDING_WINDOW, {"prefix": f"{base}/", "expiry": expiry}, write=True)

    def _fixed_window(self, row_key: str) -> Window:
        cached = _recall(row_key)
        if cached is not None:
            return cached
        row = self._run(sql.READ_FIXED_WINDOW, {"row_key": row_key})
        return Window(row.count, row.seconds_left, read_at=time.time()) if row else Window(0, 0.0)

    def _read_sliding_window(self, base: str, expiry: int) -> Window:
        row = self._run(sql.READ_SLIDING_WINDOW, {"prefix": f"{base}/", "expiry": expiry})
        return Window(row.count, row.seconds_left, row.previous, time.time())

    def _run(
        self,
        statement: Any,
        parameters: dict[str, Any],
        write: bool = False,
        every_row: bool = False,
    ) -> Any:
        """One statement in a transaction of its own: its first row (or, with `every_row`,
        all of them), or the rows deleted.

        On the autocommit storage engine that transaction is the statement itself. Failures
        are logged here.
        """
        try:
            with self.engine.begin() if write else self.engine.connect() as connection:
                if isinstance(statement, sql.Prepared):
                    result = statement.execute(connection, parameters)
                else:
                    result = connection.execute(statement, parameters)
                if not result.returns_rows:
                    return result.rowcount
                return result.all() if every_row else result.first()
        except SQLAlchemyError as exc:
            log.error("rate limit storage failed: %s", exc)
            raise


# The window a hit saw, kept for the rest of the request (flask.g), so that Flask-Limiter's
# header computation right after the hit reads it instead of querying again.
def _remember(row_key: str, window: Window) -> None:
    if has_app_context():
        g.setdefault("_rate_limit_windows", {})[row_key] = window


def _recall(row_key: str) -> Window | None:
    return g.get("_rate_limit_windows", {}).get(row_key) if has_app_context() else None


def note_outcomes(hits: list[Hit], rows: list[Any]) -> None:
    """What a statement of planned hits did, kept for Flask-Limiter's questions (flask.g)."""
    # A row's key is the counter's key, "/" and the window's index.
    windows = {row.key.rpartition("/")[0]: _window_of(row) for row in rows if row.key is not None}
    outcomes: dict[Hit, bool] = {}
    for hit in hits:
        window = windows.get(hit.key)
        outcomes[hit] = window is not None
        if window is None:
            break  # nothing after a refused hit was written, nor will be asked for
        _remember(hit.key, window)
    g._planned_hits = outcomes


def _window_of(row: Any) -> Window:
    return Window(row.count, row.seconds_left, row.previous or 0, time.time())


def hits_planned() -> bool:
    """Whether this request's hits were sent ahead already."""
    return has_app_context() and "_planned_hits" in g


def _planned_outcome(hit: Hit) -> bool | None:
    """What `acquire_in_advance` did for this hit (once), or None if it didn't plan it."""
    if not has_app_context():
        return None
    return g.get("_planned_hits", {}).pop(hit, None)


def _forget(row_key: str) -> None:
    if has_app_context():
        g.get("_rate_limit_windows", {}).pop(row_key, None)
