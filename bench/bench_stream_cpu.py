"""What a streamed token costs the server: CPU time per token, against a bare streaming relay.

A fake Ollama sends 2,000 tokens a millisecond apart, so that each arrives on its own, as a
model's do. For each worker class, chatapp (one worker, on a durable PostgreSQL) streams them
through `POST /chat` and `/v1/chat/completions`, and `bench.baseline_app`'s `/relay` (each line
parsed, its text sent on as an SSE delta) on the same gunicorn settings; the server processes'
user and system CPU time over the stream, divided by its tokens. The cases take turns in each
round; each figure is the median of the rounds.
"""

from __future__ import annotations

import http.client
import json
import os
import statistics
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from functools import partial
from pathlib import Path
from urllib.parse import urlsplit

from bench.bench_chat import MODEL
from bench.bench_pipeline import UNLIMITED
from bench.harness import free_port, gunicorn_server, postgres_database, prepared_env, serving

TOKENS, TOKEN_DELAY = 2000, 0.001
ROUNDS = 3
WORKER_CLASSES = ("gevent", "gthread")
MESSAGES = [{"role": "user", "content": "Hello"}]
BODIES = {
    "/chat": {"message": "Hello", "stream": True},
    "/v1/chat/completions": {"model": MODEL, "messages": MESSAGES, "stream": True},
    "/relay": {"model": MODEL, "messages": MESSAGES, "stream": True},
}
JSON = {"Content-Type": "application/json"}
TICKS = os.sysconf("SC_CLK_TCK")


@contextmanager
def paced_ollama() -> Iterator[str]:
    port = free_port()
    command = [sys.executable, "-m", "tests.fakes.ollama", "--port", str(port),
               "--tokens", str(TOKENS), "--token-delay", str(TOKEN_DELAY)]  # fmt: skip
    with serving(command, port) as url:
        yield url


@contextmanager
def chatapp_server(env: dict[str, str], worker_class: str) -> Iterator[str]:
    """chatapp as deployed: `chatapp serve`'s gevent worker (psycopg made cooperative), or
    bench_pipeline's gthread 1 × 8."""
    if worker_class == "gthread":
        with gunicorn_server("wsgi:app", env, workers=1, threads=8) as url:
            yield url
        return
    port = free_port()
    command = [str(Path(sys.executable).parent / "chatapp"), "serve", "--port", str(port),
               "--workers", "1", "--worker-class", worker_class]  # fmt: skip
    with serving(command, port, env) as url:
        yield url


def cpu_seconds(url: str) -> float:
    """User and system CPU time so far of the server's processes (master and workers: each
    names its address on its command line)."""
    port = urlsplit(url).port
    found = subprocess.run(["pgrep", "-f", f":{port}([^0-9]|$)"], capture_output=True, text=True)
    total = 0
    for pid in found.stdout.split():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:  # gone meanwhile
            continue
        total += int(fields[11]) + int(fields[12])
    return total / TICKS


def cpu_per_token(url: str, path: str, headers: dict[str, str]) -> float:
    """Microseconds of the server's CPU per token, over one whole stream."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    before = cpu_seconds(url)
    connection.request("POST", path, json.dumps(BODIES[path]), headers)
    response = connection.getresponse()
    tokens = sum(line.startswith(b"data: {") for line in iter(response.readline, b""))
    used = cpu_seconds(url) - before
    connection.close()
    if response.status != 200 or tokens < TOKENS:
        raise RuntimeError(f"{path} answered {response.status} with {tokens} data lines")
    return used / tokens * 1e6


def measured(cases: dict[str, Callable[[], float]]) -> dict[str, float]:
    """Each case's median over the rounds, the cases taking turns in each round."""
    rounds: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(ROUNDS):
        for name, case in cases.items():
            rounds[name].append(case())
    return {name: statistics.median(values) for name, values in rounds.items()}


def main() -> None:
    with paced_ollama() as ollama, postgres_database(durable=True) as database_url:
        env, admin_key = prepared_env(database_url, OLLAMA_HOST=ollama, **UNLIMITED)
        headers = {"Authorization": f"Bearer {admin_key}", **JSON}
        print(f"\n## Server CPU per streamed token ({TOKENS} tokens, {TOKEN_DELAY * 1000:g} ms "
              f"apart; one worker; median of {ROUNDS} rounds)")  # fmt: skip
        print(f"{'case':<44} {'us/token':>9}  vs the bare relay")
        for worker_class in WORKER_CLASSES:
            with ExitStack() as servers:
                chatapp = servers.enter_context(chatapp_server(env, worker_class))
                relay = servers.enter_context(
                    gunicorn_server("bench.baseline_app:app", env, 1, 8, worker_class)
                )
                on = f", {worker_class}"
                cases = {
                    "bare relay /relay" + on: partial(cpu_per_token, relay, "/relay", JSON),
                    "chatapp /chat" + on: partial(cpu_per_token, chatapp, "/chat", headers),
                    "chatapp /v1/chat/completions" + on: partial(
                        cpu_per_token, chatapp, "/v1/chat/completions", headers
                    ),
                }
                figures = measured(cases)
            base = next(iter(figures.values()))
            for name, micros in figures.items():
                print(f"{name:<44} {micros:>9.0f}  x{micros / base:.2f}")


if __name__ == "__main__":
    main()
