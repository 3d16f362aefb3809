"""The `rate_limits` storage on its own, through the `limits` strategies, on both databases."""

from __future__ import annotations

import threading
import time

import pytest
from limits import parse
from limits.storage import storage_from_string
from limits.strategies import (
    FixedWindowRateLimiter,
    RateLimiter,
    SlidingWindowCounterRateLimiter,
)
from sqlalchemy import create_engine, select, text

from chatapp.extensions import db
from chatapp.models import RateLimit
from chatapp.ratelimit.storage import ENGINE_KEY, DatabaseStorage, counter_key
from tests.ratelimit.conftest import wait_until
from tests.ratelimit.servers import dead_engine_url, refused_port

STRATEGIES = [FixedWindowRateLimiter, SlidingWindowCounterRateLimiter]


@pytest.fixture
def storage(app) -> DatabaseStorage:
    with app.app_context():
        yield DatabaseStorage(engine=db.engine)
        db.session.remove()


@pytest.fixture(params=STRATEGIES, ids=["fixed-window", "sliding-window-counter"])
def strategy(request: pytest.FixtureRequest, storage: DatabaseStorage) -> RateLimiter:
    return request.param(storage)


def test_the_default_storage_uri_selects_the_table_storage(app):
    with app.app_context():
        made = storage_from_string(app.config["RATELIMIT_STORAGE_URI"], engine=db.engine)
    assert isinstance(made, DatabaseStorage)


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_on_postgresql_hits_do_not_wait_for_the_wal_flush_but_app_writes_do(app):
    engine = app.extensions[ENGINE_KEY]
    # The source tells our session-level SET apart from the test cluster's own setting.
    setting = text("SELECT setting, source FROM pg_settings WHERE name = 'synchronous_commit'")
    with engine.connect() as connection:
        assert tuple(connection.execute(setting).one()) == ("off", "session")
    with app.app_context():
        assert db.session.execute(setting).one().source != "session"
        db.session.remove()


def test_hits_are_allowed_up_to_the_limit_then_refused(strategy):
    item = parse("3/minute")
    assert [strategy.hit(item, "user:1", "global") for _ in range(5)] == [True] * 3 + [False] * 2
    assert strategy.get_window_stats(item, "user:1", "global").remaining == 0


def test_concurrent_hits_from_many_threads_are_counted_exactly(strategy):
    item = parse("40/hour")
    results: list[bool] = []
    barrier = threading.Barrier(10)

    def hammer() -> None:
        barrier.wait()
        results.extend(strategy.hit(item, "user:7", "global") for _ in range(8))

    threads = [threading.Thread(target=hammer) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count(True) == 40


def test_the_window_resets_after_its_time(strategy):
    item = parse("2/second")
    assert [strategy.hit(item, "user:1", "s") for _ in range(3)] == [True, True, False]
    # The sliding window frees up gradually, the fixed one at once; either way it reopens.
    wait_until(lambda: strategy.hit(item, "user:1", "s"), timeout=5)


def test_counters_are_per_key(strategy):
    item = parse("1/minute")
    assert strategy.hit(item, "user:1", "global")
    assert not strategy.hit(item, "user:1", "global")
    assert strategy.hit(item, "user:2", "global")
    assert strategy.hit(item, "user:1", "llm")


def test_a_changed_limit_keeps_counting_the_same_window(strategy):
    for _ in range(3):
        assert strategy.hit(parse("10/minute"), "user:1", "global")
    assert strategy.get_window_stats(parse("5/minute"), "user:1", "global").remaining == 2
    assert not strategy.hit(parse("3/minute"), "user:1", "global")


def test_rows_name_the_user_and_the_endpoint(app, strategy):
    strategy.hit(parse("5/minute"), "user:42", "llm")
    with app.app_context():
        row = db.session.scalars(select(RateLimit)).one()
    assert (row.user_key, row.endpoint, row.count, row.window_seconds) == ("user:42", "llm", 1, 60)
    assert row.key.startswith("LIMITER/user:42/llm/1/minute")


def test_the_counter_key_leaves_out_the_amount():
    assert counter_key("LIMITER/user:1/global/1000/1/hour") == "LIMITER/user:1/global/1/hour"
    assert counter_key("custom-key") == "custom-key"


def test_clear_forgets_a_counter(strategy):
    item = parse("1/minute")
    strategy.hit(item, "user:1", "global")
    strategy.clear(item, "user:1", "global")
    assert strategy.hit(item, "user:1", "global")


def test_reset_empties_the_table(app, storage):
    FixedWindowRateLimiter(storage).hit(parse("1/minute"), "user:1", "global")
    assert storage.reset() == 1
    with app.app_context():
        assert db.session.scalars(select(RateLimit)).first() is None


def test_an_unknown_key_has_a_full_window(strategy):
    stats = strategy.get_window_stats(parse("5/minute"), "user:9", "global")
    assert stats.remaining == 5


def test_the_reset_time_is_within_the_window(strategy):
    item = parse("2/minute")
    strategy.hit(item, "user:1", "global")
    reset = strategy.get_window_stats(item, "user:1", "global").reset_time
    assert time.time() - 1 <= reset <= time.time() + 61


def test_check_reports_a_healthy_table(storage):
    assert storage.check() is True


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_dead_database_fails_check_and_raises_storage_errors(backend):
    with refused_port() as port:
        engine = create_engine(dead_engine_url(backend, port))
        storage = DatabaseStorage(engine=engine)
        assert storage.check() is False
        with pytest.raises(storage.base_exceptions):
            storage.incr("LIMITER/user:1/global/5/1/minute", 60)
        engine.dispose()
