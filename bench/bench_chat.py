"""`POST /chat` against calling the fake Ollama directly: added latency, and time to first delta."""

from __future__ import annotations

import http.client
import json
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from bench.harness import (
    Stats,
    each_database,
    free_port,
    gunicorn_server,
    load,
    prepared_env,
    print_table,
    serving,
)
from chatapp.services.prompts import DEFAULT_PROMPT_TEXT

CONCURRENCY = (1, 8)
REQUESTS = 300
FIRST_DELTA_SAMPLES = 200
MODEL = "llama3.1:8b-instruct-q8_0"
UNLIMITED = {"RATE_LIMIT_PER_HOUR": "1000000000", "CHAT_RATE_LIMIT": "1000000000/minute"}
# What chatapp sends Ollama for a new chat: the default system prompt and the message.
DIRECT_BODY = {
    "model": MODEL,
    "messages": [
        {"role": "system", "content": DEFAULT_PROMPT_TEXT},
        {"role": "user", "content": "Hello"},
    ],
    "stream": False,
}


@contextmanager
def fake_ollama_process() -> Iterator[str]:
    """The fake Ollama in its own process, so it doesn't share a GIL with the load."""
    port = free_port()
    command = [sys.executable, "-m", "tests.fakes.ollama", "--port", str(port), "--tokens", "8"]
    with serving(command, port) as url:
        yield url


def first_line_ms(
    connection: http.client.HTTPConnection, path: str, body: Any, headers: dict, marker: bytes
) -> float:
    """Milliseconds from sending the request to the first line containing `marker`."""
    started = time.perf_counter()
    connection.request("POST", path, body=json.dumps(body), headers=headers)
    response = connection.getresponse()
    elapsed = None
    while line := response.readline():
        if elapsed is None and marker in line:
            elapsed = (time.perf_counter() - started) * 1000
    if response.status != 200 or elapsed is None:
        raise RuntimeError(f"{path} answered {response.status} without {marker!r}")
    return elapsed


def first_delta_stats(
    url: str, path: str, body: Any, headers: dict, marker: bytes, concurrency: int
) -> Stats:
    """Time to the first streamed token, from `concurrency` kept-alive connections. `body` is
    the request's body, or a function that returns each request's body."""
    parts = urlsplit(url)
    headers = {**headers, "Content-Type": "application/json"}
    samples: list[float] = []
    lock = threading.Lock()

    def worker(count: int) -> None:
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        for i in range(count):
            sent = body() if callable(body) else body
            elapsed = first_line_ms(connection, path, sent, headers, marker)
            if i >= 5:  # the first few warm the connection and the server up
                with lock:
                    samples.append(elapsed)
        connection.close()

    per_worker = FIRST_DELTA_SAMPLES // concurrency + 5
    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(per_worker,)) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return _stats(samples, time.perf_counter() - started)


def _stats(samples: list[float], wall: float) -> Stats:
    ordered = sorted(samples)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return Stats(len(ordered), 0, len(ordered) / wall, ordered[len(ordered) // 2], p99)


def measure_latency(ollama: str, urls: dict[str, str], headers: dict) -> list:
    rows = []
    for concurrency in CONCURRENCY:
        direct = load(
            f"{ollama}/api/chat", "POST", json=DIRECT_BODY, concurrency=concurrency,
            requests_total=REQUESTS,
        )  # fmt: skip
        rows.append((f"fake Ollama /api/chat c={concurrency}", direct, None))
        for name, url in urls.items():
            chat = load(
                f"{url}/chat", "POST", headers=headers, json={"message": "Hello"},
                concurrency=concurrency, requests_total=REQUESTS,
            )  # fmt: skip
            rows.append((f"{name} c={concurrency}", chat, direct))
    return rows


def measure_first_delta(ollama: str, url: str, headers: dict) -> list:
    rows = []
    direct_body = {**DIRECT_BODY, "stream": True}
    chat_body = {"message": "Hello", "stream": True}
    for concurrency in CONCURRENCY:
        direct = first_delta_stats(
            ollama, "/api/chat", direct_body, {}, b'"done": false', concurrency
        )
        rows.append((f"fake Ollama first token c={concurrency}", direct, None))
        chat = first_delta_stats(url, "/chat", chat_body, headers, b"event: delta", concurrency)
        rows.append((f"chatapp first delta c={concurrency}", chat, direct))
    return rows


def measure_backend(label: str, database_url: str, ollama: str) -> None:
    env, admin_key = prepared_env(database_url, OLLAMA_HOST=ollama, **UNLIMITED)
    headers = {"Authorization": f"Bearer {admin_key}"}
    with (
        gunicorn_server("wsgi:app", env) as url,
        gunicorn_server("wsgi:app", {**env, "RATELIMIT_ENABLED": "false"}) as unlimited_url,
    ):
        urls = {"POST /chat": url, "POST /chat, rate limiting off": unlimited_url}
        latency = measure_latency(ollama, urls, headers)
        first_delta = measure_first_delta(ollama, url, headers)
    setup = "gunicorn gthread -w 2 --threads 8; new chat each time"
    print_table(f"POST /chat over calling the fake Ollama directly, {label} ({setup})", latency)
    print_table(f"First streamed delta over the fake's first token, {label}", first_delta)


def main() -> None:
    with fake_ollama_process() as ollama:
        for label, url in each_database():
            measure_backend(label, url, ollama)


if __name__ == "__main__":
    main()
