"""Expired counters are purged off the request path: by the CLI and by a background thread."""

from __future__ import annotations

import threading
import time

import pytest
from flask import Flask
from sqlalchemy import func, insert, select

from chatapp.cli import main
from chatapp.extensions import db
from chatapp.models import RateLimit
from chatapp.ratelimit.purge import purge_expired
from tests.ratelimit.conftest import wait_until

LONG_AGO = 1_000_000.0  # epoch seconds in 1970: long expired
FAR_AHEAD = 4_000_000_000.0  # in 2096: still live


def add_counters(app: Flask, count: int, expires_at: float, prefix: str) -> None:
    rows = [
        {"key": f"{prefix}/{n}", "count": 1, "window_seconds": 60, "expires_at": expires_at}
        for n in range(count)
    ]
    with app.app_context():
        db.session.execute(insert(RateLimit), rows)
        db.session.commit()


@pytest.fixture
def stop_purging(app: Flask):
    yield
    app.extensions["chatapp.rate_limit_purge"].stop()


def counters(app: Flask) -> int:
    with app.app_context():
        total = db.session.scalar(select(func.count()).select_from(RateLimit))
        db.session.remove()
    return total


def test_purge_deletes_every_expired_counter_in_batches_and_keeps_live_ones(app):
    add_counters(app, 1203, LONG_AGO, "old")
    add_counters(app, 5, FAR_AHEAD, "live")
    with app.app_context():
        assert purge_expired(db.engine, batch_rows=500) == 1203
    assert counters(app) == 5


def test_the_cli_purges_expired_counters(app):
    add_counters(app, 3, LONG_AGO, "old")
    add_counters(app, 2, FAR_AHEAD, "live")
    result = app.test_cli_runner().invoke(main, ["ratelimit", "purge"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Purged 3 expired rate limit rows."
    assert counters(app) == 2


def test_requests_never_purge(app, client, admin):
    add_counters(app, 3, LONG_AGO, "old")
    for _ in range(3):
        client.get("/me/keys", headers=admin.headers)
    assert counters(app) == 3 + 1  # the expired rows, and the admin's own counter


@pytest.mark.parametrize("app_overrides", [{"RATELIMIT_PURGE_SECONDS": 0.2}], indirect=True)
def test_a_background_thread_purges_after_the_first_request(app, client, admin, stop_purging):
    add_counters(app, 3, LONG_AGO, "old")
    purge = app.extensions["chatapp.rate_limit_purge"]
    assert purge.thread is None
    client.get("/me/keys", headers=admin.headers)
    thread = purge.thread
    assert thread.is_alive() and thread is not threading.current_thread()

    def purged() -> bool:
        """the background thread purged the expired counters"""
        return counters(app) == 1

    wait_until(purged, timeout=10)
    client.get("/me/keys", headers=admin.headers)
    assert purge.thread is thread  # one thread per app, not one per request


@pytest.mark.parametrize(
    "app_overrides",
    [{"RATELIMIT_PURGE_SECONDS": 0.2, "AUTH_FAILURE_LIMIT": "50/second"}],
    indirect=True,
)
def test_the_number_of_counters_stays_bounded_over_many_windows(app, client, stop_purging):
    # Each second is a new window, hence a new row per client: a long run in a few seconds.
    for n in range(60):
        client.get("/me", headers={"Authorization": "Bearer nope"},
                   environ_base={"REMOTE_ADDR": f"10.0.{n % 3}.1"})  # fmt: skip
        time.sleep(0.05)

    def bounded() -> bool:
        """only the live windows' counters are left"""
        return counters(app) <= 2 * 3 + 1

    wait_until(bounded, timeout=10)
