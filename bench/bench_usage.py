"""What usage accounting costs a chat turn: statements and p50, with it on and off, in one run.

Two apps on the same database and the same fake Ollama, in this process, differ in one app
override: USAGE_ACCOUNTING (not a user setting; services/usage.py reads it). Their turns
alternate, so that drift hits both alike. Budget (issue 14): at most one statement and 1 ms
of p50 added.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from bench.harness import each_database, prepared_env
from tests.fakes.ollama import FakeOllama

TURNS = 300
WARM_UP = 20
BODY = {"message": "hi", "chat_id": "bench"}
MAX_STATEMENTS_ADDED = 1
MAX_P50_ADDED_MS = 1.0


@contextmanager
def turn_clients(database_url: str, ollama_url: str) -> Iterator[dict]:
    """{on|off: (app, client, headers)}: the two apps on one prepared database."""
    from chatapp import create_app
    from chatapp.extensions import db

    env, admin_key = prepared_env(
        database_url, RATE_LIMIT_PER_HOUR="100000000", CHAT_RATE_LIMIT="100000000/minute"
    )
    headers = {"Authorization": f"Bearer {admin_key}"}
    settings = {**env, "OLLAMA_HOST": ollama_url, "LEGACY_IMPORT_ON_START": False}
    apps = {
        "on": create_app(settings),
        "off": create_app({**settings, "USAGE_ACCOUNTING": False}),
    }
    try:
        yield {name: (app, app.test_client(), headers) for name, app in apps.items()}
    finally:
        for app in apps.values():
            with app.app_context():
                db.engine.dispose()


def one_turn(client, headers: dict[str, str]) -> float:
    started = time.perf_counter()
    response = client.post("/chat", json=BODY, headers=headers)
    elapsed = (time.perf_counter() - started) * 1000
    assert response.status_code == 200, response.get_data(as_text=True)
    return elapsed


def statements_per_turn(app, client, headers: dict[str, str]) -> float:
    from chatapp.extensions import db

    count = [0]

    def record(*_: object) -> None:
        count[0] += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        for _ in range(20):
            one_turn(client, headers)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    return count[0] / 20


def measure(label: str, database_url: str, ollama_url: str) -> bool:
    with turn_clients(database_url, ollama_url) as clients:
        for name in ("on", "off"):
            for _ in range(WARM_UP):
                one_turn(*clients[name][1:])
        latencies: dict[str, list[float]] = {"on": [], "off": []}
        for _ in range(TURNS):
            for name in ("off", "on"):
                latencies[name].append(one_turn(*clients[name][1:]))
        statements = {name: statements_per_turn(*clients[name]) for name in ("off", "on")}
    p50 = {name: statistics.median(values) for name, values in latencies.items()}
    added_ms, added_statements = p50["on"] - p50["off"], statements["on"] - statements["off"]
    within = added_statements <= MAX_STATEMENTS_ADDED and added_ms <= MAX_P50_ADDED_MS
    print(f"\n## Usage accounting on a chat turn, {label} ({TURNS} turns each, alternating)")
    for name in ("off", "on"):
        print(f"accounting {name:<3}  p50 {p50[name]:6.2f} ms  {statements[name]:.1f} statements")
    print(
        f"added: {added_statements:+.1f} statements (budget {MAX_STATEMENTS_ADDED}), "
        f"p50 {added_ms:+.2f} ms (budget {MAX_P50_ADDED_MS}): {'within' if within else 'OVER'}"
    )
    return within


def main() -> None:
    with FakeOllama(tokens=["Hello", " world", "!"]) as fake:
        for label, url in each_database():
            measure(label, url, fake.url)


if __name__ == "__main__":
    main()
