"""Where one request's time goes, in-process on PostgreSQL: statements and a cProfile split.

`python -m bench.profile_endpoints [ROUNDS]` profiles `GET /chat/history` (20 chats),
`GET /system-prompts`, `POST /system-prompts` and `POST /chat` on an existing chat against
the fake Ollama, with the rate limits on. No server and no load: one request at a time.
"""

from __future__ import annotations

import cProfile
import pstats
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import count
from typing import Any

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from bench.harness import postgres_database
from chatapp import create_app
from chatapp.database import upgrade_database
from chatapp.extensions import db
from chatapp.ratelimit.storage import ENGINE_KEY
from chatapp.services.keys import generate_clear_key
from chatapp.services.users import ensure_admin
from tests.fakes.ollama import FakeOllama

TOP = 15
DRIVER_EXECUTE = "<method 'execute' of 'psycopg2.extensions.cursor' objects>"
# Buckets of the split: (label, where the function is defined, its name). Cumulative times,
# so nested buckets overlap (SQLAlchemy includes the driver); read them as "of which".
BUCKETS = (
    ("whole request (test client)", "werkzeug/test.py", "open"),
    ("authentication", "chatapp/auth.py", "authenticate_request"),
    ("rate limiter: the hits, sent ahead", "chatapp/ratelimit/limiter.py", "_acquire_in_advance"),
    ("rate limiter: Flask-Limiter's check", "flask_limiter/", "_check_request_limit"),
    ("rate limiter: response headers", "flask_limiter/", "__inject_headers"),
    ("request validation (spectree)", "spectree/plugins/flask_plugin.py", "request_validation"),
    ("response validation (spectree)", "spectree/plugins/flask_plugin.py", "validate_response"),
    ("view function", "chatapp/api/", None),
    ("statements: SQLAlchemy + driver", "sqlalchemy/engine/base.py", "_execute_context"),
    ("driver (cursor.execute)", "~", DRIVER_EXECUTE),
    ("commit", "sqlalchemy/orm/session.py", "commit"),
    ("pool checkout", "sqlalchemy/pool/base.py", "_checkout"),
    ("pre-ping", "sqlalchemy/", "do_ping"),
    ("ORM object loading", "sqlalchemy/orm/loading.py", "instances"),
    ("pydantic model_validate", "pydantic/main.py", "model_validate"),
    ("JSON encoding (flask)", "flask/json/provider.py", "dumps"),
    ("provider call", "chatapp/providers/http.py", None),
    ("logging", "chatapp/logs.py", None),
    ("metrics: start the clock", "chatapp/metrics.py", "_start_timer"),
    ("metrics: count the request", "chatapp/metrics.py", "_count_request"),
    ("usage upsert (a turn)", "chatapp/services/usage.py", "record"),
    ("quota check (a turn)", "chatapp/services/quotas.py", None),
)


def main(rounds: int = 200) -> None:
    with postgres_database() as url, FakeOllama() as fake:
        key = generate_clear_key()
        app = profiled_app(url, fake.url, key)
        client = app.test_client()
        headers = {"Authorization": f"Bearer {key}"}
        for n in range(20):
            client.post(
                "/chat", json={"message": f"hello {n}", "chat_id": f"c{n}"}, headers=headers
            )
        names = (f"bench prompt {n}" for n in count())
        chat_ids = (f"c{n % 20}" for n in count())  # so that no one chat grows long
        requests: dict[str, Callable[[], Any]] = {
            "GET /chat/history": lambda: client.get("/chat/history", headers=headers),
            "GET /system-prompts": lambda: client.get("/system-prompts", headers=headers),
            "POST /system-prompts": lambda: client.post(
                "/system-prompts", json={"name": next(names), "content": "x"}, headers=headers
            ),
            "POST /chat (existing chat)": lambda: client.post(
                "/chat", json={"message": "again", "chat_id": next(chat_ids)}, headers=headers
            ),
        }
        for label, send in requests.items():
            _report(app, label, send, rounds)


def profiled_app(url: str, ollama_url: str, key: str) -> Flask:
    """The app on a migrated `url` with `key` as its admin's, limits too high to refuse."""
    app = create_app(
        {
            "DATABASE_URL": url,
            "API_KEY": key,
            "OLLAMA_HOST": ollama_url,
            "RATE_LIMIT_PER_HOUR": 10_000_000,
            "CHAT_RATE_LIMIT": "10000000/minute",
            "RATELIMIT_PURGE_SECONDS": 0,
            "LEGACY_IMPORT_ON_START": False,
            "LOG_LEVEL": "WARNING",
        }
    )
    upgrade_database(app)
    with app.app_context():
        ensure_admin(key)
        db.session.remove()
    return app


def _report(app: Flask, label: str, send: Callable[[], Any], rounds: int) -> None:
    for _ in range(5):
        _check(send())
    with _statements(app) as statements:
        _check(send())
    started = time.perf_counter()
    for _ in range(rounds):
        send()
    plain = (time.perf_counter() - started) / rounds * 1000
    started = time.perf_counter()
    profile = cProfile.Profile()
    profile.enable()
    for _ in range(rounds):
        send()
    profile.disable()
    per_request = (time.perf_counter() - started) / rounds * 1000
    print(f"\n== {label}: {len(statements)} statements, {plain:.2f} ms per request")
    print(f"   {per_request:.2f} ms under cProfile; the split, in ms per request, is of that")
    for statement in statements:
        print("   SQL:", " ".join(statement.split())[:150])
    stats = pstats.Stats(profile)
    for bucket, ms in _split(stats, rounds):
        print(f"   {bucket:34s} {ms:7.2f} ms")
    print(f"   driver round trips (pings too)     {_calls(stats, DRIVER_EXECUTE) / rounds:7.2f}")
    print(f"   the {TOP} functions of most own time:")
    stats.sort_stats("tottime").print_stats(TOP)


def _check(response: Any) -> None:
    if response.status_code >= 300:
        raise SystemExit(f"{response.status_code}: {response.get_data(as_text=True)}")


@contextmanager
def _statements(app: Flask) -> Iterator[list[str]]:
    """The statements of the app's engine and of the limiter's, in the order they were sent."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        statements.append(statement)

    with app.app_context():
        engines: list[Engine] = [db.engine, app.extensions[ENGINE_KEY]]
    engines = list({id(e): e for e in engines}.values())
    for engine in engines:
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        for engine in engines:
            event.remove(engine, "before_cursor_execute", record)


def _split(stats: pstats.Stats, rounds: int) -> list[tuple[str, float]]:
    """Each bucket's cumulative time: that of the matching function or, for a module alone
    (name None), of its most expensive function."""
    rows = []
    for label, where, name in BUCKETS:
        times = [
            cumulative
            for (path, _line, func), (_cc, _nc, _tt, cumulative, _callers) in stats.stats.items()
            if where in path and (name is None or func == name)
        ]
        rows.append((label, (max(times, default=0.0)) * 1000 / rounds))
    return rows


def _calls(stats: pstats.Stats, name: str) -> int:
    return sum(
        calls for (_path, _line, func), (_cc, calls, *_rest) in stats.stats.items() if func == name
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
