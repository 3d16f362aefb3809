"""Database plumbing: migrations, connection settings, timeouts and liveness, the start-up lock,
and the health probe."""

from __future__ import annotations

import logging
import select
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import event, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import InvalidatePoolError, SQLAlchemyError

from chatapp.db_wait import CONNECT_TIMEOUT_SECONDS, DeadlineExceeded
from chatapp.extensions import db, migrate

log = logging.getLogger(__name__)

# A pooled connection returned this recently is taken as alive, unless its socket has something
# to read; one idle for longer is pinged when checked out. Under load that spares a round trip
# per checkout (two per turn); after a quiet spell, when a firewall may have dropped it
# silently, it is still checked. HikariCP's aliveBypassWindowMs (500 ms) is the same rule.
# A connection that dies in use fails its statement once, and SQLAlchemy then invalidates it
# with every older one.
PING_AFTER_IDLE_SECONDS = 1.0
RETURNED_AT = "chatapp.returned_at"  # in each pooled connection's info
# One advisory lock id shared by every chatapp instance on a database: "chat" in ASCII.
STARTUP_LOCK_KEY = 0x63686174


def _find_migrations_dir() -> Path:
    """Next to the package in a checkout; under the environment's share/ once installed."""
    beside_package = Path(__file__).resolve().parent.parent / "migrations"
    installed = Path(sys.prefix) / "share" / "chatapp" / "migrations"
    return beside_package if beside_package.is_dir() else installed


MIGRATIONS_DIR = _find_migrations_dir()


def init_app(app: Flask) -> None:
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = with_timeouts(app.config)
    db.init_app(app)
    # Registered after Flask-SQLAlchemy's own teardown, so it runs first (Flask reverses them).
    app.teardown_appcontext(release_session)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    with app.app_context():
        ping_idle_connections(db.engine)


def with_timeouts(config: Mapping[str, Any]) -> dict[str, Any]:
    """The engine options, plus PostgreSQL's connect timeout and statement_timeout, and no JIT.

    The server cancels a statement slow or blocked past DB_STATEMENT_TIMEOUT and the connection
    stays usable; a server that doesn't answer at all is the serving process's client-side
    deadline's business (chatapp.db_wait). Migrations lift the limit (migrations/env.py).
    JIT compiling pays off for long analytic queries, never for ours: a chat list walking
    hundreds of branches crosses jit_above_cost and spent more time compiling than running.
    """
    options = dict(config["SQLALCHEMY_ENGINE_OPTIONS"])
    if make_url(config["SQLALCHEMY_DATABASE_URI"]).get_backend_name() != "postgresql":
        return options
    connect_args: dict[str, Any] = {
        "connect_timeout": CONNECT_TIMEOUT_SECONDS,
        "options": "-c jit=off",
    }
    if config["DB_STATEMENT_TIMEOUT"] > 0:
        milliseconds = round(config["DB_STATEMENT_TIMEOUT"] * 1000)
        connect_args["options"] += f" -c statement_timeout={milliseconds}"
    options["connect_args"] = {**connect_args, **options.get("connect_args", {})}
    return options


def release_session(_error: BaseException | None = None) -> None:
    """End the request's transaction and return its connection, whatever the database does.

    With the database gone, the rollback raises. The answer is decided by then, so the failure
    is logged and the dead connection dropped, rather than gunicorn answering a bare 500.
    """
    try:
        db.session.remove()
    except SQLAlchemyError as exc:
        log.warning("database connection lost while ending a request: %s", exc)
        db.session.remove()  # the connection is invalidated by now, so this one succeeds


def ping_idle_connections(engine: Engine) -> None:
    """Ping a connection on checkout if it sat in the pool PING_AFTER_IDLE_SECONDS, or if the
    server wrote to it meanwhile."""

    def ping_if_idle(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        returned = record.info.get(RETURNED_AT)
        if returned is None:
            return  # a fresh connection
        recent = time.monotonic() - returned < PING_AFTER_IDLE_SECONDS
        if recent and not _server_spoke(dbapi_connection):
            return  # in use a moment ago, and nothing came since
        try:
            engine.dialect.do_ping(dbapi_connection)
        except DeadlineExceeded:
            raise  # a server that doesn't answer won't answer a new connection: fail now
        except engine.dialect.loaded_dbapi.Error as exc:
            # As pool_pre_ping does: reconnect, and retire every connection older than now.
            raise InvalidatePoolError() from exc

    event.listen(engine, "checkout", ping_if_idle)
    event.listen(engine, "checkin", _note_return)


def _server_spoke(dbapi_connection: Any) -> bool:
    """Whether an idle connection's socket is readable, without a round trip.

    Between requests the server sends nothing, unless it is closing the connection: a restart
    or pg_terminate_backend sends an error then the end of the stream, and a cut network path
    (a proxy, a failover) the end alone. Either makes the socket readable at once. SQLite has
    no socket.
    """
    fileno = getattr(dbapi_connection, "fileno", None)
    if fileno is None:
        return False
    poller = select.poll()  # gevent's cooperative one in a patched worker: same answer
    poller.register(fileno(), select.POLLIN)
    return bool(poller.poll(0))


def _note_return(dbapi_connection: Any, record: Any) -> None:
    record.info[RETURNED_AT] = time.monotonic()


def upgrade_database(app: Flask) -> None:
    """Apply pending migrations, creating the SQLite file's folder if needed."""
    with app.app_context():
        url = db.engine.url
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        upgrade(directory=str(MIGRATIONS_DIR))


@contextmanager
def startup_lock(app: Flask) -> Iterator[None]:
    """Hold a PostgreSQL advisory lock while the caller prepares the database.

    Instances started together take turns: the first migrates and bootstraps, the others then
    find nothing left to do. The lock goes with its transaction, so with a crashed instance too.
    SQLite takes none: one SQLite file is one machine's, and SQLite serialises its writers.
    """
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as connection, connection.begin():
        # Waiting for another instance's migrations is no stuck statement.
        connection.execute(text("SET LOCAL statement_timeout = 0"))
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": STARTUP_LOCK_KEY})
        yield


def ping_database(engine: Engine) -> dict[str, Any]:
    """`{"status": "ok", "latency_ms", "backend"}` or `{"status": "down", "error"}`."""
    started = time.perf_counter()
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # any driver failure means the same thing to a health check
        log.warning("database check failed: %s", exc)
        return {"status": "down", "backend": engine.dialect.name, "error": type(exc).__name__}
    latency = round((time.perf_counter() - started) * 1000, 2)
    return {"status": "ok", "backend": engine.dialect.name, "latency_ms": latency}


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """SQLite enforces foreign keys (our cascades) only when asked, per connection."""
    if type(dbapi_connection).__module__ != "sqlite3":
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    # With WAL, NORMAL stays consistent after a crash and spares an fsync per commit.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()
