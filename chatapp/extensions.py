"""Flask extensions, created unbound and bound to the app in `create_app`.

The rate limiter is in `chatapp.ratelimit`, with its policy; this module imports nothing of
ours, since the models import it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

from flask import current_app, has_request_context, request
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_sqlalchemy.session import Session
from sqlalchemy import MetaData
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.engine.characteristics import ConnectionCharacteristic
from sqlalchemy.orm import DeclarativeBase

# One naming convention, so Alembic names constraints alike on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


F = TypeVar("F", bound=Callable)

READING_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
STATEMENTS_ALONE = "statements_alone"  # the mark statements_alone() sets on a view
_autocommit_engines: WeakKeyDictionary[Engine, Engine] = WeakKeyDictionary()


def statements_alone(view: F) -> F:
    """Mark a view whose every statement is whole by itself, so that each may commit alone.

    A chat turn reads with single statements and writes one (the usage upsert, and on
    PostgreSQL the turn on an existing chat); a write of several statements takes a
    transaction of its own (`chats.store_turn`). On PostgreSQL its session then runs as a
    GET's does (`for_statements_alone`).
    """
    setattr(view, STATEMENTS_ALONE, True)
    return view


class RequestSession(Session):
    """A session whose statements, in a GET, HEAD or OPTIONS request or a view marked
    `statements_alone`, run outside a transaction.

    Under READ COMMITTED, PostgreSQL's default, every statement of a transaction takes a
    snapshot of its own anyway, so a reading request sees nothing different; it is spared the
    BEGIN and COMMIT round trips, two of a list endpoint's five and four of a turn's eleven.
    The one write a read may make (a key's last_used_at, once a minute) is a single
    statement, committed as it runs.
    """

    def get_bind(
        self, mapper: Any = None, clause: Any = None, bind: Any = None, **kwargs: Any
    ) -> Engine | Connection:
        engine = super().get_bind(mapper, clause, bind, **kwargs)
        if not isinstance(engine, Engine) or not has_request_context():
            return engine
        if request.method in READING_METHODS:
            return autocommit(engine)
        view = current_app.view_functions.get(request.endpoint) if request.endpoint else None
        if getattr(view, STATEMENTS_ALONE, False):
            return for_statements_alone(engine)
        return engine


def for_statements_alone(engine: Engine) -> Engine:
    """The engine to run statements on that are each whole by themselves: outside any
    transaction on PostgreSQL, where BEGIN and COMMIT are round trips; as it is elsewhere.
    SQLite's transactions are in process, and switching a connection's mode both ways on each
    checkout cost a turn more than the transactions did (3.2 ms in process against 2.9)."""
    return autocommit(engine) if engine.dialect.name == "postgresql" else engine


def autocommit(engine: Engine) -> Engine:
    """The same engine and pool, its connections in autocommit mode until they are returned."""
    if engine not in _autocommit_engines:
        _autocommit_engines[engine] = engine.execution_options(**_autocommit_option(engine))
    return _autocommit_engines[engine]


DRIVER_AUTOCOMMIT = "driver_autocommit"  # an execution option of ours, see DriverAutocommit


class DriverAutocommit(ConnectionCharacteristic):
    """psycopg2's `autocommit` switch, set while a connection is checked out, off when returned.

    SQLAlchemy's `isolation_level="AUTOCOMMIT"` switches the same, but when the connection is
    returned it sets READ COMMITTED by name, which cost psycopg2 0.09 ms (a round trip's worth)
    on every reading request, against 0.001 ms for the switch. psycopg2 keeps a connection's
    isolation level apart from the switch, so switching back leaves it as it was.
    """

    transactional = True

    def reset_characteristic(self, dialect: Any, dbapi_conn: Any) -> None:
        dbapi_conn.autocommit = False

    def set_characteristic(self, dialect: Any, dbapi_conn: Any, value: bool) -> None:
        dbapi_conn.autocommit = value

    def get_characteristic(self, dialect: Any, dbapi_conn: Any) -> bool:
        return dbapi_conn.autocommit


def _autocommit_option(engine: Engine) -> dict[str, Any]:
    """The execution option that puts the engine's connections in autocommit mode."""
    if engine.dialect.driver != "psycopg2":
        return {"isolation_level": "AUTOCOMMIT"}
    characteristics = engine.dialect.connection_characteristics
    if DRIVER_AUTOCOMMIT not in characteristics:
        engine.dialect.connection_characteristics = characteristics.union(
            {DRIVER_AUTOCOMMIT: DriverAutocommit()}
        )
    return {DRIVER_AUTOCOMMIT: True}


db = SQLAlchemy(model_class=Base, session_options={"class_": RequestSession})
migrate = Migrate()


def dialect_name() -> str:
    """The app's database: "postgresql" or "sqlite"."""
    return db.engine.dialect.name
