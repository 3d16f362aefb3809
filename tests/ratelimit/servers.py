"""Real servers for the rate limiting tests: `chatapp serve`, redis-server, and a load burst."""

from __future__ import annotations

import shutil
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from tests.servers import free_port

REDIS_SERVER = shutil.which("redis-server")
LIMIT, REQUESTS, CLIENT_THREADS = 40, 80, 16


@contextmanager
def refused_port() -> Iterator[int]:
    """A port bound but not listening: connections to it are refused, and nothing can take it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield sock.getsockname()[1]


def dead_engine_url(backend: str, port: int) -> str:
    """A database of that kind that can't be reached."""
    if backend == "sqlite":
        return "sqlite:////nonexistent-dir/chatapp.db"
    return f"postgresql+psycopg2://chatapp@127.0.0.1:{port}/chatapp?connect_timeout=3"


def served_env(**settings: str) -> dict[str, str]:
    """The environment of a served app limited to LIMIT requests per hour."""
    return {"RATE_LIMIT_PER_HOUR": str(LIMIT), "LOG_LEVEL": "WARNING",
            "LEGACY_IMPORT_ON_START": "false", **settings}  # fmt: skip


def fire(url: str, key: str, body: dict | None = None) -> Counter:
    """REQUESTS requests from CLIENT_THREADS threads released at once; a count per status.
    GETs, or POSTs of `body`."""
    away_from_an_hour_boundary()
    statuses: Counter = Counter()
    lock = threading.Lock()
    start = threading.Barrier(CLIENT_THREADS)

    def client() -> None:
        with requests.Session() as session:
            session.headers["Authorization"] = f"Bearer {key}"
            start.wait()
            for _ in range(REQUESTS // CLIENT_THREADS):
                if body is None:
                    status = session.get(url, timeout=30).status_code
                else:
                    status = session.post(url, json=body, timeout=30).status_code
                with lock:
                    statuses[status] += 1

    threads = [threading.Thread(target=client) for _ in range(CLIENT_THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def away_from_an_hour_boundary() -> None:
    """Sliding windows are aligned to the clock; a burst straddling two of them isn't exact."""
    into_hour = time.time() % 3600
    if into_hour > 3600 - 10:
        time.sleep(3600 - into_hour + 0.5)


@contextmanager
def redis_server(directory: Path) -> Iterator[str]:
    """A real redis-server on a free port, without persistence; yields its URL."""
    port = free_port()
    process = subprocess.Popen(
        [REDIS_SERVER, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
         "--appendonly", "no", "--dir", str(directory)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not _redis_answers(port):
            if time.monotonic() > deadline or process.poll() is not None:
                pytest.fail("redis-server did not come up")
            time.sleep(0.1)
        yield f"redis://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


def _redis_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False
