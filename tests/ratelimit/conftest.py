"""Fixtures for the rate limiting tests: settings per test, captured logs, Redis."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from flask import Flask
from sqlalchemy import event, func, select

from chatapp.extensions import db
from chatapp.models import RateLimit
from chatapp.ratelimit.storage import ENGINE_KEY
from tests.ratelimit.servers import REDIS_SERVER, redis_server


@pytest.fixture
def app_overrides(request: pytest.FixtureRequest) -> dict:
    """Settings for the app: `parametrize("app_overrides", [...], indirect=True)` sets them."""
    return {"RATELIMIT_PURGE_SECONDS": 0, **getattr(request, "param", {})}


class LogLines(logging.Handler):
    """The messages logged under `chatapp` (Flask-Limiter's included) while it is attached."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.levelname} {record.name} {record.getMessage()}")

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@pytest.fixture
def log_lines() -> Iterator[LogLines]:
    handler = LogLines()
    logger = logging.getLogger("chatapp")  # it doesn't propagate, so listen on it directly
    logger.addHandler(handler)
    yield handler
    logger.removeHandler(handler)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if REDIS_SERVER is None:
        pytest.skip("redis-server is not installed (apt-get install redis-server): Redis untested")
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


@contextmanager
def storage_statements(app: Flask) -> Iterator[list[str]]:
    """The SQL statements the limiter's storage sends while the block runs."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        statements.append(statement)

    engine = app.extensions[ENGINE_KEY]
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", record)


def counted_rows(app: Flask) -> int:
    """The sum of every counter in rate_limits."""
    with app.app_context():
        total = db.session.scalar(select(func.coalesce(func.sum(RateLimit.count), 0)))
        db.session.remove()
    return int(total)


def wait_until(condition, timeout: float = 30.0, interval: float = 0.1) -> None:  # noqa: ANN001
    """Poll `condition` until it holds; fail after `timeout` seconds (its docstring says what)."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"still not true after {timeout} s: {condition.__doc__ or condition}")
        time.sleep(interval)
