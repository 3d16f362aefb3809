"""Database plumbing: migrations, connection settings and liveness, and the health probe."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import Any

from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import InvalidatePoolError

from chatapp.extensions import db, migrate

log = logging.getLogger(__name__)

# A pooled connection returned this recently is taken as alive; one idle for longer is pinged
# when checked out. Under load that spares a round trip per checkout (two per turn); after a
# quiet spell, when a restarted server or a firewall may have dropped it, it is still checked.
# HikariCP's aliveBypassWindowMs (500 ms) is the same rule. A connection that dies in use
# fails its statement once, and SQLAlchemy then invalidates it with every older one.
PING_AFTER_IDLE_SECONDS = 1.0
RETURNED_AT = "chatapp.returned_at"  # in each pooled connection's info


def _find_migrations_dir() -> Path:
    """Next to the package in a checkout; under the environment's share/ once installed."""
    beside_package = Path(__file__).resolve().parent.parent / "migrations"
    installed = Path(sys.prefix) / "share" / "chatapp" / "migrations"
    return beside_package if beside_package.is_dir() else installed


MIGRATIONS_DIR = _find_migrations_dir()


def init_app(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True)
    with app.app_context():
        ping_idle_connections(db.engine)


def ping_idle_connections(engine: Engine) -> None:
    """Ping a connection on checkout only if it sat in the pool PING_AFTER_IDLE_SECONDS."""

    def ping_if_idle(dbapi_connection: Any, record: Any, proxy: Any) -> None:
        returned = record.info.get(RETURNED_AT)
        if returned is None or time.monotonic() - returned < PING_AFTER_IDLE_SECONDS:
            return  # a fresh connection, or one in use a moment ago
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as exc:
            # As pool_pre_ping does: reconnect, and retire every connection older than now.
            raise InvalidatePoolError() from exc

    event.listen(engine, "checkout", ping_if_idle)
    event.listen(engine, "checkin", _note_return)


def _note_return(dbapi_connection: Any, record: Any) -> None:
    record.info[RETURNED_AT] = time.monotonic()


def upgrade_database(app: Flask) -> None:
    """Apply pending migrations, creating the SQLite file's folder if needed."""
    with app.app_context():
        url = db.engine.url
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            Path(url.database).parent.mkdir(parents=True, exist_ok=True)
        upgrade(directory=str(MIGRATIONS_DIR))


def ping_database() -> dict[str, Any]:
    """`{"status": "ok", "latency_ms", "backend"}` or `{"status": "down", "error"}`."""
    started = time.perf_counter()
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # any driver failure means the same thing to a health check
        log.warning("database check failed: %s", exc)
        return {"status": "down", "backend": db.engine.dialect.name, "error": type(exc).__name__}
    latency = round((time.perf_counter() - started) * 1000, 2)
    return {"status": "ok", "backend": db.engine.dialect.name, "latency_ms": latency}


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
