"""A broken limiter storage never fails a request: it is logged and limits go on in memory."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url

from chatapp import create_app
from chatapp.extensions import db
from chatapp.services.users import ensure_admin
from tests.conftest import ADMIN_KEY, TABLES, bearer
from tests.ratelimit.conftest import counted_rows, wait_until
from tests.ratelimit.servers import dead_engine_url, refused_port
from tests.tcpproxy import TcpProxy

STORAGE_FAILED = "rate limit storage failed"


def empty_database(url: str) -> str:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def dead_storage_app(database_url: str, fake_ollama) -> Iterator[Flask]:
    """The app on a working database, its limiter's storage on a dead one of the same kind."""
    with refused_port() as port:
        dead = create_engine(dead_engine_url(make_url(database_url).get_backend_name(), port))
        with app_with_storage(database_url, fake_ollama.url, dead) as app:
            yield app


@contextmanager
def app_with_storage(database_url: str, ollama_url: str, storage_engine: Engine) -> Iterator[Flask]:
    app = create_app(
        {
            "DATABASE_URL": database_url,
            "API_KEY": ADMIN_KEY,
            "OLLAMA_HOST": ollama_url,
            "LEGACY_IMPORT_ON_START": False,
            "RATELIMIT_STORAGE_OPTIONS": {"engine": storage_engine},
            "RATELIMIT_PURGE_SECONDS": 0,
        }
    )
    with app.app_context():
        ensure_admin(ADMIN_KEY)
        db.session.remove()
    yield app
    storage_engine.dispose()
    with app.app_context():
        db.engine.dispose()


def test_a_dead_limiter_database_serves_requests_and_logs(dead_storage_app, log_lines):
    client = dead_storage_app.test_client()
    response = client.get("/me/keys", headers=bearer(ADMIN_KEY))
    assert response.status_code == 200
    assert STORAGE_FAILED in log_lines.text
    assert "falling back to in-memory storage" in log_lines.text


def test_with_the_storage_dead_limits_are_kept_in_memory(dead_storage_app):
    client = dead_storage_app.test_client()
    created = client.post(
        "/users", json={"username": "bob", "rate_limit_per_hour": 2}, headers=bearer(ADMIN_KEY)
    )
    bob_key = created.get_json()["api_key"]
    codes = [client.get("/me/keys", headers=bearer(bob_key)).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_me_still_answers_with_the_storage_dead(dead_storage_app):
    response = dead_storage_app.test_client().get("/me", headers=bearer(ADMIN_KEY))
    assert response.status_code == 200
    assert response.get_json()["rate_limits"]["requests"]["limit"] == "1000/hour"


def test_a_failed_authentication_is_still_401_with_the_storage_dead(dead_storage_app):
    response = dead_storage_app.test_client().get("/me", headers=bearer("ck_" + "z" * 43))
    assert response.status_code == 401


def _rename_table(app: Flask, old: str, new: str) -> None:
    with app.app_context():
        with db.engine.begin() as connection:
            connection.execute(text(f"ALTER TABLE {old} RENAME TO {new}"))
        db.engine.dispose()  # no pooled connection keeps a plan for the old table


@pytest.fixture
def table_gone(app: Flask) -> Iterator[None]:
    """The rate_limits table vanishes under the running app (and is put back afterwards)."""
    _rename_table(app, "rate_limits", "rate_limits_away")
    try:
        yield
    finally:
        _rename_table(app, "rate_limits_away", "rate_limits")


def test_a_vanished_table_serves_requests_and_logs(app, client, admin, table_gone, log_lines):
    assert client.get("/me/keys", headers=admin.headers).status_code == 200
    assert client.get("/me", headers=admin.headers).status_code == 200
    assert STORAGE_FAILED in log_lines.text


@pytest.fixture
def proxied_storage_app(postgres_url: str | None, fake_ollama):
    """The app on PostgreSQL, its limiter's storage on the same database through a proxy."""
    if postgres_url is None:
        pytest.skip("PostgreSQL is unavailable (see the warning above)")
    database_url = empty_database(postgres_url)
    url = make_url(database_url)
    with TcpProxy(url.host, url.port) as proxy:
        storage_engine = create_engine(url.set(port=proxy.port, query={"connect_timeout": "3"}))
        with app_with_storage(database_url, fake_ollama.url, storage_engine) as app:
            yield app, proxy
            proxy.restore()


def test_the_limiter_goes_back_to_the_database_when_it_returns(proxied_storage_app, log_lines):
    app, proxy = proxied_storage_app
    client = app.test_client()
    assert client.get("/me/keys", headers=bearer(ADMIN_KEY)).status_code == 200
    assert counted_rows(app) == 1

    proxy.cut()
    assert client.get("/me/keys", headers=bearer(ADMIN_KEY)).status_code == 200
    assert STORAGE_FAILED in log_lines.text
    assert counted_rows(app) == 1  # counted in memory meanwhile

    proxy.restore()

    def counting_in_the_database_again() -> bool:
        """requests are counted in rate_limits again"""
        assert client.get("/me/keys", headers=bearer(ADMIN_KEY)).status_code == 200
        return counted_rows(app) > 1

    wait_until(counting_in_the_database_again, timeout=30, interval=0.2)
