"""The key found by the limiter's statement, against the key looked up on its own (issue 16).

`python -m bench.bench_key_with_hits [ROUNDS]`: in process, on a PostgreSQL with fsync on,
`GET /system-prompts` and a turn on an existing chat, one request at a time, three ways taking
turns request by request: the key found by the statement that writes the request's hits (what a
request does on PostgreSQL), the key looked up on the app's connection before the hits go on
their own (what it did before, and does on SQLite), and limiting off. Each figure is the best
round's median, so a busy moment of a shared machine can't decide it.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import count
from typing import Any

from flask import Flask

from bench.harness import postgres_database
from bench.profile_endpoints import profiled_app
from chatapp import ratelimit
from chatapp.ratelimit.limiter import limiter
from chatapp.services import keys
from chatapp.services.keys import generate_clear_key
from tests.fakes.ollama import FakeOllama

CALLS = 200  # per way and round
WAYS = ("key with the hits", "key on its own", "limiting off")


def main(rounds: int = 5) -> None:
    with postgres_database(durable=True) as url, FakeOllama() as fake:
        key = generate_clear_key()
        app = profiled_app(url, fake.url, key)
        client = app.test_client()
        headers = {"Authorization": f"Bearer {key}"}
        chat_ids = (f"c{n % 100}" for n in count())  # so that no one chat grows long
        requests: dict[str, Callable[[], Any]] = {
            "GET /system-prompts": lambda: client.get("/system-prompts", headers=headers),
            "POST /chat (existing chat)": lambda: client.post(
                "/chat", json={"message": "hi", "chat_id": next(chat_ids)}, headers=headers
            ),
        }
        for _ in range(100):
            requests["POST /chat (existing chat)"]()
        for label, send in requests.items():
            medians = list(_medians(app, send, rounds))
            best = {way: min(median[way] for median in medians) for way in WAYS}
            print(f"\n== {label}, in process, median ms per request (best of {rounds} rounds)")
            for way, ms in best.items():
                print(f"   {way:20s} {ms:6.3f} ms")


def _medians(app: Flask, send: Callable[[], Any], rounds: int) -> Iterator[dict[str, float]]:
    """Each round's median per way; the ways take turns request by request, so that each meets
    the chats at the same length."""
    for _ in range(rounds):
        times: dict[str, list[float]] = {way: [] for way in WAYS}
        for number in range(CALLS * len(WAYS)):
            way = WAYS[number % len(WAYS)]
            with _taking(app, way):
                started = time.perf_counter()
                _check(send())
                times[way].append((time.perf_counter() - started) * 1000)
        yield {way: statistics.median(spent) for way, spent in times.items()}


@contextmanager
def _taking(app: Flask, way: str) -> Iterator[None]:
    """Authentication and the limits as `way` has them, for the block."""
    with_hits = ratelimit.find_key_owner_with_hits
    if way == "key on its own":
        # auth.py calls it through the package: the lookup of SQLite and of a failed statement
        ratelimit.find_key_owner_with_hits = keys.find_key_owner
    if way == "limiting off":
        app.config["RATELIMIT_ENABLED"] = limiter.enabled = False
    try:
        yield
    finally:
        ratelimit.find_key_owner_with_hits = with_hits
        app.config["RATELIMIT_ENABLED"] = limiter.enabled = True


def _check(response: Any) -> None:
    if response.status_code >= 300:
        raise SystemExit(f"{response.status_code}: {response.get_data(as_text=True)}")


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:]))
