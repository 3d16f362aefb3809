"""Where a request's time goes inside a real gunicorn worker (issue 16), one client at a time.

`python -m bench.profile_worker [REQUESTS]`: chatapp on gunicorn gthread 1 × 8 and a PostgreSQL
with fsync on, as bench_pipeline runs them, with a clock on each statement and on the whole
WSGI call (bench/timed_wsgi.py). For each endpoint: the client's p50, the worker's p50 for the
request, and each statement's p50. What the client sees beyond the worker is gunicorn and the
client; what the worker spends beyond its statements is Python.
"""

from __future__ import annotations

import sys

import requests

from bench.bench_chat import DIRECT_BODY, MODEL, fake_ollama_process
from bench.bench_pipeline import UNLIMITED, next_turn, seed
from bench.harness import gunicorn_server, load, postgres_database, prepared_env
from bench.timed_wsgi import TIMES_PATH


def main(requests_total: int = 1000) -> None:
    with fake_ollama_process() as ollama, postgres_database(durable=True) as database_url:
        env, admin_key = prepared_env(database_url, OLLAMA_HOST=ollama, **UNLIMITED)
        headers = {"Authorization": f"Bearer {admin_key}"}
        with gunicorn_server("bench.timed_wsgi:app", env, workers=1, threads=8) as url:
            replies = seed(url, headers)
            gateway = {"model": MODEL, "messages": DIRECT_BODY["messages"]}
            cases = (
                ("GET /system-prompts", "GET", "/system-prompts", None),
                ("GET /chat/history (20 chats)", "GET", "/chat/history", None),
                ("POST /v1/chat/completions", "POST", "/v1/chat/completions", gateway),
                ("POST /chat, existing chat", "POST", "/chat", next_turn(replies)),
            )  # fmt: skip
            for label, method, path, body in cases:
                requests.get(url + TIMES_PATH, timeout=10)  # starts the clocks afresh
                stats = load(url + path, method, headers, body, requests_total=requests_total)
                print(f"\n== {label}: client p50 {stats.p50_ms:.3f} ms, worker:")
                print(requests.get(url + TIMES_PATH, timeout=10).text)


if __name__ == "__main__":
    main(*(int(arg) for arg in sys.argv[1:]))
