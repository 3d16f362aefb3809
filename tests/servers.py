"""`chatapp serve` as a real subprocess for the tests that need gunicorn, and its CLI."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import requests

CHATAPP = str(Path(sys.executable).parent / "chatapp")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_cli(env: dict[str, str], cwd: Path, *args: str) -> str:
    result = subprocess.run(
        [CHATAPP, *args], env={**os.environ, **env}, cwd=cwd, capture_output=True, text=True,
        timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


def create_user(env: dict[str, str], cwd: Path, username: str) -> str:
    """`chatapp users create`: the new key is the last line of its output."""
    return run_cli(env, cwd, "users", "create", username).strip().splitlines()[-1]


def served_env(database_url: str, ollama_url: str, **settings: str) -> dict[str, str]:
    """The environment of a served test instance: the test's admin key, no legacy import."""
    from tests.conftest import ADMIN_KEY

    return {"DATABASE_URL": database_url, "API_KEY": ADMIN_KEY, "OLLAMA_HOST": ollama_url,
            "LEGACY_IMPORT_ON_START": "false", **settings}  # fmt: skip


@contextmanager
def chatapp_server(
    env: dict[str, str], cwd: Path, workers: int = 2, worker_class: str = "gevent",
    threads: int = 8,
) -> Iterator[str]:  # fmt: skip
    """`chatapp serve` as a subprocess on a free port; yields its base URL."""
    flags = ["--workers", str(workers), "--worker-class", worker_class, "--threads", str(threads)]
    with chatapp_servers(env, cwd, 1, flags) as (url,):
        yield url


@contextmanager
def chatapp_servers(
    env: dict[str, str], cwd: Path, count: int, flags: list[str] | None = None
) -> Iterator[list[str]]:
    """`count` instances of `chatapp serve` started at the same moment, each on a free port,
    with `flags`; yields their base URLs once all are up. Each logs to `cwd/serve-<port>.log`."""
    ports = [free_port() for _ in range(count)]
    processes = [_start(env, cwd, port, flags or []) for port in ports]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for url, process, port in zip(urls, processes, ports, strict=True):
            _wait_for_health(url, process, server_log_path(cwd, port))
        yield urls
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)


def server_log_path(cwd: Path, port: int) -> Path:
    return cwd / f"serve-{port}.log"


def server_log(cwd: Path) -> str:
    """What every `chatapp serve` started in `cwd` has logged."""
    return "\n".join(path.read_text() for path in cwd.glob("serve-*.log"))


def _start(env: dict[str, str], cwd: Path, port: int, flags: list[str]) -> subprocess.Popen:
    with open(server_log_path(cwd, port), "w") as log:
        return subprocess.Popen(
            [CHATAPP, "serve", "--port", str(port), *flags], env={**os.environ, **env}, cwd=cwd,
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip


def _wait_for_health(url: str, process: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"chatapp serve exited early:\n{log_path.read_text()}")
        try:
            if requests.get(f"{url}/health", timeout=3).status_code in (200, 503):
                return
        except requests.RequestException:  # not listening yet, or still booting
            pass
        time.sleep(0.1)
    pytest.fail(f"chatapp serve did not come up:\n{log_path.read_text()}")


@dataclass
class Stream:
    """A streamed turn on its own connection to the live server, kept open once it began."""

    connection: http.client.HTTPConnection
    sock: socket.socket  # the connection lets go of it once the response owns it
    response: http.client.HTTPResponse

    @property
    def status_code(self) -> int:
        return self.response.status

    def json(self) -> dict:
        return json.loads(self.response.read())

    def read_all(self) -> bytes:
        return self.response.read()

    def close(self) -> None:
        """Hang up for real: the server notices on its next write."""
        with contextlib.suppress(OSError):  # the server may have closed it already
            self.sock.shutdown(socket.SHUT_RDWR)
        self.response.close()
        self.connection.close()
        self.sock.close()


def open_chat_stream(url: str, headers: dict[str, str], chat_id: str) -> Stream:
    """A streamed turn that has sent its first bytes (its start event) and is kept open."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    body = json.dumps({"message": "Go on", "chat_id": chat_id, "stream": True})
    connection.request("POST", "/chat", body, {**headers, "Content-Type": "application/json"})
    sock = connection.sock
    stream = Stream(connection, sock, connection.getresponse())
    if stream.status_code == 200:
        stream.response.readline()
    return stream


def admitted(stream: Stream) -> Stream | None:
    """The stream if it was let in; else None, its connection closed (for wait_for)."""
    if stream.status_code == 200:
        return stream
    stream.close()
    return None


def wait_for_port(
    port: int, process: subprocess.Popen, name: str, log: Callable[[], str] = lambda: ""
) -> None:
    """Until something listens on 127.0.0.1:`port`; the test fails, with `log()`, if `process`
    exits first or 20 s pass."""
    deadline = time.monotonic() + 20
    while True:
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"{name} did not listen on port {port}:\n{log()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)


def require(binary: str | None, package: str) -> None:
    """Skip when a Debian package a test starts is missing; under CI=true, fail instead."""
    if binary is None:
        message = f"{package} is not installed (apt-get install {package}): its set-up untested"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true and {message}")
        pytest.skip(message)
