"""The database going away gives 503 (never a 500), and service comes back by itself."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from chatapp import create_app, database
from chatapp.auth import public
from chatapp.extensions import db
from chatapp.services.users import ensure_admin
from tests.conftest import ADMIN_KEY, bearer
from tests.tcpproxy import TcpProxy


@pytest.fixture
def proxied_app(postgres_url, fake_ollama):
    """The app talking to PostgreSQL through a proxy the test can cut."""
    if postgres_url is None:
        pytest.skip("PostgreSQL is unavailable")
    url = make_url(postgres_url)
    with TcpProxy(url.host, url.port) as proxy:
        app = create_app(
            {
                "DATABASE_URL": url.set(port=proxy.port).render_as_string(hide_password=False),
                "API_KEY": ADMIN_KEY,
                "OLLAMA_HOST": fake_ollama.url,
                "LEGACY_IMPORT_ON_START": False,
            }
        )
        with app.app_context():
            ensure_admin(ADMIN_KEY)
            db.session.remove()
        yield app, proxy
        proxy.restore()
        with app.app_context():
            db.engine.dispose()


def test_database_down_gives_503_and_recovers_without_restart(proxied_app):
    app, proxy = proxied_app
    client = app.test_client()
    assert client.get("/me", headers=bearer(ADMIN_KEY)).status_code == 200

    proxy.cut()
    down = client.get("/me", headers=bearer(ADMIN_KEY))
    assert down.status_code == 503
    assert down.get_json()["error"]["code"] == "database_unavailable"
    health = client.get("/health")
    assert health.status_code == 503
    assert health.get_json()["status"] == "down"

    proxy.restore()
    assert client.get("/me", headers=bearer(ADMIN_KEY)).status_code == 200
    assert client.get("/health").get_json()["database"]["status"] == "ok"


@pytest.fixture
def pings(proxied_app, monkeypatch) -> list[object]:
    """The app engine's liveness pings, counted as they are sent."""
    app, _proxy = proxied_app
    with app.app_context():
        dialect = db.engine.dialect
    sent: list[object] = []
    ping = dialect.do_ping

    def counting(dbapi_connection: object) -> bool:
        sent.append(dbapi_connection)
        return ping(dbapi_connection)

    monkeypatch.setattr(dialect, "do_ping", counting)
    return sent


def test_a_connection_used_a_moment_ago_is_not_pinged(proxied_app, pings):
    app, _proxy = proxied_app
    client = app.test_client()
    for _ in range(3):
        assert client.get("/me", headers=bearer(ADMIN_KEY)).status_code == 200
    assert pings == []


def test_after_a_burst_requests_a_little_apart_reuse_one_connection_unpinged(proxied_app, pings):
    """The pool hands out the connection returned last. Handed out in turn, each of the
    burst's 8 connections would sit idle for 8 requests' time, past the ping window, and
    be pinged on every request."""
    app, _proxy = proxied_app
    with app.app_context():
        burst = [db.engine.connect() for _ in range(8)]
        for connection in burst:
            connection.close()
    client = app.test_client()
    for _ in range(8):
        time.sleep(database.PING_AFTER_IDLE_SECONDS / 5)
        assert client.get("/system-prompts", headers=bearer(ADMIN_KEY)).status_code == 200
    assert pings == []


def test_an_idle_connection_the_server_dropped_is_replaced_before_use(
    proxied_app, pings, monkeypatch
):
    app, proxy = proxied_app
    client = app.test_client()
    assert client.get("/me", headers=bearer(ADMIN_KEY)).status_code == 200
    proxy.cut()  # the pooled connection dies while idle, and the server comes back
    proxy.restore()
    monkeypatch.setattr(database, "PING_AFTER_IDLE_SECONDS", 0.0)
    assert client.get("/me", headers=bearer(ADMIN_KEY)).status_code == 200
    assert len(pings) >= 1


def test_a_connection_the_server_dropped_a_moment_ago_is_replaced_before_use(proxied_app, pings):
    """The pool is within its no-ping window, but the dropped socket is readable: pinged, and
    the request goes through on a new connection rather than failing with 503."""
    app, proxy = proxied_app
    client = app.test_client()
    assert client.get("/me", headers=bearer(ADMIN_KEY)).status_code == 200
    proxy.cut()
    proxy.restore()
    assert client.get("/me", headers=bearer(ADMIN_KEY)).status_code == 200
    assert len(pings) == 1


def test_a_transaction_that_can_t_end_still_leaves_the_answer_alone(proxied_app):
    """A request whose transaction is open when the database goes away: ending it (the
    teardown's rollback) fails, after the answer is decided. It is logged, not raised, and
    the next request gets a fresh connection."""
    app, proxy = proxied_app

    @public
    def reads_then_loses_the_database() -> dict:
        db.session.execute(text("SELECT 1"))  # a POST: this opens the request's transaction
        proxy.cut()
        return {"success": True}

    app.add_url_rule("/test/reads-then-loses", view_func=reads_then_loses_the_database,
                     methods=["POST"])  # fmt: skip
    client = app.test_client()
    response = client.post("/test/reads-then-loses", json={"any": "body"})
    assert response.status_code == 200 and response.get_json() == {"success": True}
    proxy.restore()
    assert client.get("/me", headers=bearer(ADMIN_KEY)).status_code == 200


def test_metrics_with_an_admin_key_and_the_database_down_is_a_documented_503(proxied_app):
    app, proxy = proxied_app
    client = app.test_client()
    proxy.cut()
    down = client.get("/metrics", headers=bearer(ADMIN_KEY))
    assert down.status_code == 503
    assert down.get_json()["error"]["code"] == "database_unavailable"
    documented = client.get("/openapi.json").get_json()["paths"]["/metrics"]["get"]["responses"]
    assert "503" in documented
