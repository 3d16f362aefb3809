"""What one statement costs at each layer, in process on PostgreSQL (issue 16's profile).

`python -m bench.profile_statement [ROUNDS]` runs the key-and-user lookup that authenticates
every request, the same way a request does, then with less and less around it: Core instead
of ORM objects, a plain Connection, the driver's cursor, and a statement PostgreSQL prepared
once. The layers take turns in each round; each figure is the best round's median, so a busy
moment of a shared machine can't decide it.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from sqlalchemy import Select, String, bindparam, select
from sqlalchemy.dialects.postgresql import asyncpg

from bench.harness import postgres_database
from bench.profile_endpoints import profiled_app
from chatapp.extensions import db
from chatapp.models import ApiKey, User
from chatapp.services.keys import find_key_owner, generate_clear_key, hash_key

CALLS = 500  # per layer and round
USERS, KEYS = User.__table__, ApiKey.__table__
# keys._KEY_OWNER over the tables, not the mapped classes: rows, not ORM objects.
KEY_OWNER_CORE = (
    select(USERS, KEYS.c.id.label("key_id"), KEYS.c.key_hash, KEYS.c.last_used_at)
    .join(KEYS, KEYS.c.user_id == USERS.c.id)
    .where(KEYS.c.key_hash == bindparam("digest", type_=String), KEYS.c.revoked_at.is_(None))
)


def main(rounds: int = 5) -> None:
    with postgres_database() as url:
        key = generate_clear_key()
        app = profiled_app(url, "http://127.0.0.1:9", key)
        with app.test_request_context("/me"), driver_cursor(app) as cursor:
            layers = _layers(key, cursor)
            best = {name: min(_medians(layers[name], rounds)) for name in layers}
    print("The key-and-user lookup of every request, median ms per call, best of rounds:")
    for name, ms in best.items():
        print(f"  {name:58s} {ms:6.3f} ms")


def _layers(key: str, cursor: Any) -> dict[str, Callable[[], Any]]:
    digest = {"digest": hash_key(key)}
    pyformat = str(KEY_OWNER_CORE.compile(dialect=db.engine.dialect))
    cursor.execute(f"PREPARE key_owner AS {_numbered(KEY_OWNER_CORE)}")
    return {
        "the request's way: session, ORM objects (find_key_owner)": lambda: find_key_owner(key),
        "session, Core rows": lambda: db.session.execute(KEY_OWNER_CORE, digest).first(),
        "a Connection from the pool, Core rows": lambda: _on_connection(digest),
        "the driver's cursor, the statement's text": lambda: _fetch(cursor, pyformat, digest),
        "the driver's cursor, EXECUTE of a prepared statement": lambda: _fetch(
            cursor, "EXECUTE key_owner(%(digest)s)", digest
        ),
    }


def _medians(call: Callable[[], Any], rounds: int) -> Iterator[float]:
    for _ in range(rounds):
        times = []
        for _ in range(CALLS):
            started = time.perf_counter()
            call()
            db.session.remove()  # as each request ends: the connection goes back to the pool
            times.append((time.perf_counter() - started) * 1000)
        yield statistics.median(times)


@contextmanager
def driver_cursor(app: Flask) -> Iterator[Any]:
    """A psycopg2 cursor of the app's pool, in autocommit as a GET's connection is."""
    with app.app_context():
        connection = db.engine.raw_connection()
    connection.driver_connection.autocommit = True
    try:
        yield connection.cursor()
    finally:
        connection.driver_connection.autocommit = False
        connection.close()


def _on_connection(parameters: dict[str, str]) -> Any:
    with db.engine.connect() as connection:
        return connection.execute(KEY_OWNER_CORE, parameters).first()


def _fetch(cursor: Any, statement: str, parameters: dict[str, str]) -> Any:
    cursor.execute(statement, parameters)
    return cursor.fetchone()


def _numbered(statement: Select) -> str:
    """The statement with $1-style typed placeholders, the form PREPARE takes."""
    return str(statement.compile(dialect=asyncpg.dialect()))


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:]))
