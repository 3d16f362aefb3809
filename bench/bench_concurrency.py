"""Capacity: 1,000 concurrent streams and 500 slow clients, gevent against gthread, one instance.

One `chatapp serve` with 2 workers on PostgreSQL, against a fake Ollama that sends one token a
second. The load is asyncio on raw sockets, so a thousand clients cost this process little.
`python -m bench bench_concurrency`.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import requests

from bench.harness import ROOT, free_port, postgres_database, prepared_env, serving

STREAMS = 1000
USERS = 125  # 8 streams each: MAX_STREAMS_PER_USER's default
RAMP_SECONDS = 10.0
HOLD_SECONDS = 60.0
TOKENS = int(RAMP_SECONDS + HOLD_SECONDS + 5)  # one a second: every stream outlasts the hold
SLOW_CLIENTS = 500
PROBES = 200
AIMS_MS = {"GET /me p99 under 1,000 streams": 250.0, "GET /health p99, 500 slow clients": 500.0}
INF = float("inf")
LIMITS = {"RATE_LIMIT_PER_HOUR": "1000000", "CHAT_RATE_LIMIT": "1000000/minute"}


@dataclass(frozen=True)
class Outcome:
    streams_ok: int
    stored: int  # chats stored by the time the scenario ended
    me: Probes  # another user's GET /me while the streams run
    health: Probes  # GET /health with the slow clients connected


@contextmanager
def slow_fake_ollama() -> Iterator[str]:
    """The fake Ollama in its own process: TOKENS tokens, one a second."""
    port = free_port()
    command = [sys.executable, "-m", "tests.fakes.ollama", "--port", str(port),
               "--tokens", str(TOKENS), "--token-delay", "1"]  # fmt: skip
    with serving(command, port) as url:
        yield url


@contextmanager
def chatapp_serve(env: dict[str, str], worker_class: str) -> Iterator[str]:
    port = free_port()
    command = [str(Path(sys.executable).parent / "chatapp"), "serve", "--port", str(port),
               "--workers", "2", "--worker-class", worker_class]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    try:
        url = f"http://127.0.0.1:{port}"
        _wait_up(url)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:  # gthread may still hold queued streams
            process.kill()
            process.wait()


def _wait_up(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            requests.get(f"{url}/health", timeout=3)
            return
        except requests.RequestException:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up")


async def http_exchange(url: str, request: bytes, timeout: float) -> bytes:
    """One request on its own connection (`Connection: close`); the whole answer."""
    host, port = url.removeprefix("http://").split(":")
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), timeout)
    try:
        writer.write(request)
        return await asyncio.wait_for(reader.read(), timeout)
    finally:
        writer.close()


def request_bytes(method: str, path: str, key: str | None, body: dict | None = None) -> bytes:
    payload = json.dumps(body).encode() if body is not None else b""
    lines = [f"{method} {path} HTTP/1.1", "Host: bench", "Connection: close",
             f"Content-Length: {len(payload)}", "Content-Type: application/json"]  # fmt: skip
    if key:
        lines.append(f"Authorization: Bearer {key}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


async def one_stream(url: str, key: str, chat_id: str, deadline: float) -> bool:
    body = {"message": "Count to seventy, slowly", "chat_id": chat_id, "stream": True}
    try:
        answer = await http_exchange(
            url, request_bytes("POST", "/chat", key, body), deadline - time.monotonic()
        )
    except (OSError, TimeoutError):
        return False
    return answer.startswith(b"HTTP/1.1 200") and b"event: done" in answer


@dataclass
class Probes:
    """Latencies of one request after another; a failure counts as infinitely slow."""

    latencies: list[float] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)  # by status or exception

    @property
    def p99(self) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] if ordered else INF

    def describe(self) -> str:
        failed = ", ".join(f"{n} {why}" for why, n in self.failures.items()) or "none failed"
        return f"p99 {self.p99:.0f} ms of {len(self.latencies)} ({failed})"


async def probe(url: str, path: str, key: str | None, until: float, count: int) -> Probes:
    probes = Probes()
    pause = max(0.0, (until - time.monotonic()) / count)
    while time.monotonic() < until and len(probes.latencies) < count:
        started = time.perf_counter()
        try:
            answer = await http_exchange(url, request_bytes("GET", path, key), 5.0)
            failure = None if answer.startswith(b"HTTP/1.1 200") else answer[9:12].decode()
        except (OSError, TimeoutError) as exc:
            failure = type(exc).__name__
        if failure:
            probes.failures[failure] += 1
        probes.latencies.append(INF if failure else (time.perf_counter() - started) * 1000)
        await asyncio.sleep(pause)
    return probes


async def streams_scenario(url: str, keys: list[str], bystander: str) -> tuple[int, Probes]:
    """STREAMS streams started over RAMP_SECONDS; the bystander probed while they all run."""
    deadline = time.monotonic() + RAMP_SECONDS + TOKENS + 30
    tasks = []
    for i in range(STREAMS):
        key = keys[i % len(keys)]
        tasks.append(asyncio.create_task(one_stream(url, key, f"load-{i}", deadline)))
        await asyncio.sleep(RAMP_SECONDS / STREAMS)
    hold_end = time.monotonic() + HOLD_SECONDS
    latencies = await probe(url, "/me", bystander, hold_end, int(HOLD_SECONDS * 20))
    results = await asyncio.gather(*tasks)
    return sum(results), latencies


async def slow_clients_scenario(url: str) -> Probes:
    host, port = url.removeprefix("http://").split(":")
    writers = []
    for _ in range(SLOW_CLIENTS):
        try:
            _, writer = await asyncio.open_connection(host, int(port))
        except OSError:
            continue
        writer.write(b"GET /health HTTP/1.1\r\nHost: slow\r\nX-Slow: ")
        writers.append(writer)
    await asyncio.sleep(1)
    try:
        return await probe(url, "/health", None, time.monotonic() + 30, PROBES)
    finally:
        for writer in writers:
            writer.close()


def make_users(url: str, admin_key: str) -> list[str]:
    keys = []
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {admin_key}"
        for i in range(USERS + 1):
            answer = session.post(f"{url}/users", json={"username": f"user{i}"}, timeout=30)
            keys.append(answer.json()["api_key"])
    return keys


def stored_chats(url: str, keys: list[str]) -> int:
    with requests.Session() as session:
        return sum(
            session.get(f"{url}/chat/history", params={"limit": 1},
                        headers={"Authorization": f"Bearer {key}"}, timeout=60).json()["total"]
            for key in keys
        )  # fmt: skip


def run_worker_class(env: dict[str, str], admin_key: str, worker_class: str) -> Outcome:
    with chatapp_serve(env, worker_class) as url:
        keys = make_users(url, admin_key)
        streamers, bystander = keys[:-1], keys[-1]
        ok, me = asyncio.run(streams_scenario(url, streamers, bystander))
        stored = stored_chats(url, streamers)
        health = asyncio.run(slow_clients_scenario(url))
    return Outcome(ok, stored, me, health)


def report(worker_class: str, outcome: Outcome) -> None:
    me_aim, health_aim = AIMS_MS.values()
    print(
        f"{worker_class:<8} {STREAMS} streams: {outcome.streams_ok} done, "
        f"{STREAMS - outcome.streams_ok} failed, {outcome.stored} stored; another user's "
        f"GET /me {outcome.me.describe()}; aim p99 < {me_aim:.0f} ms"
    )
    print(
        f"{worker_class:<8} {SLOW_CLIENTS} slow-header clients: GET /health "
        f"{outcome.health.describe()}; aim p99 < {health_aim:.0f} ms"
    )


def main() -> None:
    with slow_fake_ollama() as ollama, postgres_database() as database_url:
        results = {}
        for worker_class in ("gevent", "gthread"):
            env, admin_key = prepared_env(
                database_url, OLLAMA_HOST=ollama, LEGACY_IMPORT_ON_START="false", **LIMITS
            )
            results[worker_class] = run_worker_class(env, admin_key, worker_class)
            _empty(database_url)
    print(f"\n## Capacity, one instance, 2 workers, PostgreSQL, a token a second ({TOKENS} s)")
    for worker_class, outcome in results.items():
        report(worker_class, outcome)


def _empty(database_url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


if __name__ == "__main__":
    main()
