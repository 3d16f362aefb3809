"""DB_STATEMENT_TIMEOUT on PostgreSQL: a blocked statement gives 503, and the server cancels it
(SPEC 13), so the connection survives and the next request is served."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, event, inspect, text

from chatapp import create_app
from chatapp.database import upgrade_database
from chatapp.extensions import db
from chatapp.services.users import ensure_admin
from tests.conftest import ADMIN_KEY, bearer
from tests.pgcluster import fresh_database


@pytest.fixture
def postgres_app(empty_postgres_url, fake_ollama) -> Iterator[Flask]:
    app = create_app(
        {"DATABASE_URL": empty_postgres_url, "API_KEY": ADMIN_KEY, "OLLAMA_HOST": fake_ollama.url,
         "LEGACY_IMPORT_ON_START": False, "DB_STATEMENT_TIMEOUT": 1}
    )  # fmt: skip
    with app.app_context():
        ensure_admin(ADMIN_KEY)
        db.session.remove()
    yield app
    with app.app_context():
        db.engine.dispose()


def test_a_statement_blocked_by_a_lock_gives_503_then_service_goes_on(
    postgres_app, empty_postgres_url
):
    client = postgres_app.test_client()
    assert client.get("/me", headers=bearer(ADMIN_KEY)).status_code == 200
    locker = create_engine(empty_postgres_url)
    with locker.connect() as connection, connection.begin():
        connection.execute(text("LOCK TABLE api_keys IN ACCESS EXCLUSIVE MODE"))
        blocked = client.get("/me", headers=bearer(ADMIN_KEY))
    locker.dispose()
    assert blocked.status_code == 503
    assert blocked.get_json()["error"]["code"] == "database_unavailable"
    assert client.get("/me", headers=bearer(ADMIN_KEY)).status_code == 200


def test_requests_are_held_to_the_statement_timeout(postgres_app):
    with postgres_app.app_context(), db.engine.connect() as connection:
        assert connection.execute(text("SHOW statement_timeout")).scalar() == "1s"


def test_requests_are_never_jit_compiled(postgres_app):
    """A list page walks hundreds of branches: PostgreSQL's cost estimate crosses
    jit_above_cost, and compiling took longer than the query itself."""
    with postgres_app.app_context(), db.engine.connect() as connection:
        assert connection.execute(text("SHOW jit")).scalar() == "off"


def test_migrations_are_not_held_to_it(empty_postgres_url):
    """A migration may rightly take longer than any request; here every one does."""
    app = create_app({"DATABASE_URL": fresh_database(empty_postgres_url, "slow_migrations")})
    with app.app_context():
        engine = db.engine
    with engine.connect():
        pass  # SQLAlchemy's own first queries, before the limit below
    engine.dispose()
    event.listen(engine, "connect", one_millisecond_per_statement)
    upgrade_database(app)
    # The check is no migration: held to 1 ms, the catalog query failed on a busy machine.
    event.remove(engine, "connect", one_millisecond_per_statement)
    engine.dispose()
    with app.app_context():
        tables = inspect(db.engine).get_table_names()
        db.engine.dispose()
    assert "alembic_version" in tables


def one_millisecond_per_statement(dbapi_connection: Any, record: Any) -> None:
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET statement_timeout = 1")
