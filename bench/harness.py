"""Shared benchmark plumbing: real gunicorn servers, throwaway databases and a load generator."""

from __future__ import annotations

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.pgcluster import start_cluster  # noqa: E402 - needs the repository root on sys.path


@dataclass(frozen=True)
class Stats:
    requests: int
    errors: int
    rps: float
    p50_ms: float
    p99_ms: float


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            requests.get(url, timeout=1)
            return
        except requests.RequestException:  # not listening yet, or still booting its workers
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up within {timeout} s")


@contextmanager
def gunicorn_server(
    wsgi: str,
    env: dict[str, str],
    workers: int = 2,
    threads: int = 8,
    worker_class: str = "gthread",
) -> Iterator[str]:
    """gunicorn with gthread workers (or `worker_class`'s) on a free port."""
    port = free_port()
    command = [
        sys.executable, "-m", "gunicorn", "-k", worker_class, "-w", str(workers),
        "--threads", str(threads), "-b", f"127.0.0.1:{port}", "--log-level", "warning",
        "--no-control-socket", wsgi,
    ]  # fmt: skip
    with serving(command, port, env) as url:
        yield url


@contextmanager
def serving(command: list[str], port: int, env: dict[str, str] | None = None) -> Iterator[str]:
    """Run an HTTP server process from the repository root until the block ends."""
    process = subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


@contextmanager
def postgres_database(durable: bool = False) -> Iterator[str]:
    """A throwaway PostgreSQL cluster's database URL (CHATAPP_TEST_DATABASE_URL if set);
    `durable` keeps fsync and synchronous commits on, as a real deployment has them."""
    if os.environ.get("CHATAPP_TEST_DATABASE_URL"):
        yield os.environ["CHATAPP_TEST_DATABASE_URL"]
        return
    cluster = start_cluster(durable)
    try:
        yield cluster.admin_url
    finally:
        cluster.stop()


@contextmanager
def sqlite_database() -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="chatapp-bench-") as directory:
        yield f"sqlite:///{directory}/chatapp.db"


def each_database() -> Iterator[tuple[str, str]]:
    """(label, URL) of SQLite, then of a throwaway PostgreSQL: a bench runs on both in turn."""
    with sqlite_database() as url:
        yield "SQLite", url
    with postgres_database() as url:
        yield "PostgreSQL", url


def prepared_env(database_url: str, **settings: str) -> tuple[dict[str, str], str]:
    """Migrate the database and bootstrap the admin; return the server env and admin key."""
    from chatapp import create_app
    from chatapp.extensions import db
    from chatapp.services.keys import generate_clear_key
    from chatapp.startup import prepare

    admin_key = generate_clear_key()
    env = {"DATABASE_URL": database_url, "API_KEY": admin_key, "LOG_LEVEL": "WARNING", **settings}
    app = create_app(env)
    prepare(app)
    with app.app_context():
        db.engine.dispose()
    return env, admin_key


def load(
    url: str,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    json: Any = None,
    concurrency: int = 1,
    requests_total: int = 300,
) -> Stats:
    """Send `requests_total` requests from `concurrency` threads, each on a kept-alive session.
    `json` is the body, or a function that returns each request's body."""
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    per_thread = max(1, requests_total // concurrency)

    def worker() -> None:
        nonlocal errors
        with requests.Session() as session:
            for _ in range(per_thread):
                body = json() if callable(json) else json
                started = time.perf_counter()
                response = session.request(method, url, headers=headers, json=body, timeout=60)
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    latencies.append(elapsed)
                    errors += response.status_code >= 400

    _warm_up(url, method, headers, json)
    started = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    return _stats(latencies, errors, wall)


def _warm_up(url: str, method: str, headers: dict[str, str] | None, json: Any) -> None:
    with requests.Session() as session:
        for _ in range(20):
            body = json() if callable(json) else json
            session.request(method, url, headers=headers, json=body, timeout=60)


def _stats(latencies: list[float], errors: int, wall: float) -> Stats:
    ordered = sorted(latencies)
    p99_index = min(len(ordered) - 1, int(len(ordered) * 0.99))
    return Stats(
        requests=len(ordered),
        errors=errors,
        rps=len(ordered) / wall,
        p50_ms=statistics.median(ordered),
        p99_ms=ordered[p99_index],
    )


def print_table(title: str, rows: list[tuple[str, Stats, Stats | None]]) -> None:
    """One line per measurement, with its ratio to the baseline measured in the same run."""
    print(f"\n## {title}")
    header = f"{'case':<44} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'err':>4}  vs baseline"
    print(header)
    print("-" * len(header))
    for name, stats, baseline in rows:
        ratio = ""
        if baseline is not None:
            added = stats.p50_ms - baseline.p50_ms
            ratio = (
                f"p50 x{stats.p50_ms / baseline.p50_ms:.2f} (+{added:.2f} ms)"
                f", req/s x{stats.rps / baseline.rps:.2f}"
            )
        print(
            f"{name:<44} {stats.rps:>8.0f} {stats.p50_ms:>8.2f} {stats.p99_ms:>8.2f} "
            f"{stats.errors:>4}  {ratio}"
        )
