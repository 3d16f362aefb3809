"""Shared fixtures: the app on each database, clients, users and the fake providers."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, event, text
from werkzeug.serving import make_server

from chatapp import create_app
from chatapp.database import upgrade_database
from chatapp.extensions import db
from chatapp.services import keys
from chatapp.services.users import create_user, ensure_admin
from tests.pgcluster import start_cluster

pytest_plugins = ["tests.fakes.fixtures"]

BACKENDS = ("sqlite", "postgresql")
ADMIN_KEY = keys.generate_clear_key()
TABLES = (
    "audit_log",
    "usage_daily",
    "rate_limits",
    "messages",
    "chats",
    "api_keys",
    "system_prompts",
    "users",
)


def pytest_report_header(config: pytest.Config) -> str:
    url = os.environ.get("CHATAPP_TEST_DATABASE_URL")
    return (
        f"chatapp: databases {', '.join(BACKENDS)}; PostgreSQL from {url or 'a throwaway cluster'}"
    )


POSTGRES_PROBLEMS: list[str] = []


def _postgres_unavailable(reason: str) -> None:
    message = f"PostgreSQL is unavailable, so the PostgreSQL half of the suite is skipped: {reason}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.exit(f"CI=true and {message}", returncode=3)
    POSTGRES_PROBLEMS.append(message)


def pytest_terminal_summary(terminalreporter) -> None:  # noqa: ANN001 - pytest's reporter
    for message in POSTGRES_PROBLEMS:
        terminalreporter.section("PostgreSQL NOT TESTED", sep="!", red=True, bold=True)
        terminalreporter.write_line(message, red=True, bold=True)


@pytest.fixture(scope="session")
def postgres_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str | None]:
    """A migrated PostgreSQL database for the session, or None when none can be had."""
    url = os.environ.get("CHATAPP_TEST_DATABASE_URL")
    cluster = None
    if not url:
        try:
            cluster = start_cluster()
        except (RuntimeError, OSError) as exc:
            _postgres_unavailable(str(exc))
            yield None
            return
        url = _fresh_database(cluster.admin_url, cluster.url("chatapp_test"))
    _migrate(url)
    yield url
    if cluster:
        cluster.stop()


def _fresh_database(admin_url: str, url: str) -> str:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP DATABASE IF EXISTS chatapp_test"))
        connection.execute(text("CREATE DATABASE chatapp_test"))
    engine.dispose()
    return url


def _migrate(url: str) -> None:
    app = create_app({"DATABASE_URL": url})
    upgrade_database(app)
    with app.app_context():
        db.engine.dispose()  # closing the last connection also checkpoints SQLite's WAL


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test: much faster than migrating each time."""
    path = tmp_path_factory.mktemp("sqlite-template") / "chatapp.db"
    _migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty, migrated database on each backend in turn."""
    if request.param == "sqlite":
        target = tmp_path / "chatapp.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        return f"sqlite:///{target}"
    url = request.getfixturevalue("postgres_url")
    if url is None:
        pytest.skip("PostgreSQL is unavailable (see the warning above)")
    _truncate(url)
    return url


@pytest.fixture
def empty_postgres_url(postgres_url: str | None) -> str:
    """An empty, migrated PostgreSQL database, for the tests that are about PostgreSQL alone."""
    if postgres_url is None:
        pytest.skip("PostgreSQL is unavailable (see the warning above)")
    _truncate(postgres_url)
    return postgres_url


def _truncate(url: str) -> None:
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {', '.join(TABLES)} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def app_overrides() -> dict:
    """Extra settings for the `app` fixture; override this fixture in a module to change them."""
    return {}


@pytest.fixture
def app(database_url: str, fake_ollama, app_overrides: dict, tmp_path: Path) -> Iterator[Flask]:
    settings = {
        "DATABASE_URL": database_url,
        "TESTING": True,
        "API_KEY": ADMIN_KEY,
        "OLLAMA_HOST": fake_ollama.url,
        "LLM_TIMEOUT": 5.0,
        "LEGACY_IMPORT_ON_START": False,
        "RATELIMIT_PURGE_SECONDS": 0,  # no purge thread outliving the test's database
        "CHAT_HISTORY_DIR": str(tmp_path / "no-legacy-chats"),
        "SYSTEM_PROMPTS_DIR": str(tmp_path / "no-legacy-prompts"),
        "SYSTEM_PROMPT_FILE": str(tmp_path / "no-legacy-prompt.txt"),
        **app_overrides,
    }
    application = create_app(settings)
    with application.app_context():
        ensure_admin(ADMIN_KEY)
        db.session.remove()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app: Flask):
    return app.test_client()


@pytest.fixture
def admin_key(app: Flask) -> str:
    return ADMIN_KEY


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


@dataclass(frozen=True)
class TestUser:
    username: str
    key: str

    @property
    def headers(self) -> dict[str, str]:
        return bearer(self.key)


@pytest.fixture
def make_user(app: Flask):
    """`make_user("alice", is_admin=False, rate_limit_per_hour=None) -> TestUser`."""

    def make(
        username: str, is_admin: bool = False, rate_limit_per_hour: int | None = None
    ) -> TestUser:
        with app.app_context():
            new_user = create_user(username, is_admin, rate_limit_per_hour)
            return TestUser(username, new_user.clear_key)

    return make


@pytest.fixture
def admin(app: Flask) -> TestUser:
    return TestUser("admin", ADMIN_KEY)


@dataclass
class LiveServer:
    url: str
    app: Flask


@pytest.fixture
def live_server(app: Flask) -> Iterator[LiveServer]:
    """The app on real HTTP at 127.0.0.1, served from a thread."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    # A short poll interval: shutdown() waits for it, once per test.
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield LiveServer(f"http://127.0.0.1:{server.server_port}", app)
    server.shutdown()
    server.server_close()
    thread.join(timeout=10)


def dialect_of(app: Flask) -> str:
    """The app's database: "sqlite" or "postgresql"."""
    with app.app_context():
        return db.engine.dialect.name


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []
        self.parameters: list[Any] = []  # each statement's, as the driver got them

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def clear_of_a_minute_edge() -> None:
    """Start at least 10 s before a minute ends, for tests that spend a per-minute limit.

    A sliding window counts floor(the previous minute's count × the share of it still covered
    + this minute's count): a call made just before the edge adds 0.99 just after it, which the
    floor drops, so a test that crossed the edge saw one call more let in.
    """
    seconds = time.time() % 60
    if seconds > 50:
        time.sleep(60.05 - seconds)


@pytest.fixture
def count_queries(app: Flask):
    """`with count_queries() as counter: ...` counts the SQL statements the app sends."""

    @contextmanager
    def counting() -> Iterator[QueryCounter]:
        counter = QueryCounter()

        def record(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
            counter.statements.append(statement)
            counter.parameters.append(parameters)

        with listening(app, "before_cursor_execute", record):
            yield counter

    return counting


@contextmanager
def listening(app: Flask, name: str, listener: Callable[..., None]) -> Iterator[None]:
    """`listener` for the app engine's event `name` while the block runs."""
    with app.app_context():
        engine = db.engine
    event.listen(engine, name, listener)
    try:
        yield
    finally:
        event.remove(engine, name, listener)
