"""Against `chatapp serve` (gunicorn gthread): a client closing its socket mid-stream, a kill."""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from tests.api.chatkit import wait_for
from tests.conftest import ADMIN_KEY, bearer

pytestmark = pytest.mark.slow

CHATAPP = Path(sys.executable).parent / "chatapp"
TOKENS = [f" word{i}" for i in range(400)]


@dataclass
class Served:
    host: str
    port: int
    process: subprocess.Popen

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def up(url: str) -> bool:
    try:
        return requests.get(f"{url}/health", timeout=2).status_code == 200
    except requests.RequestException:
        return False


@pytest.fixture
def served(database_url, fake_ollama, tmp_path) -> Iterator[Served]:
    """`chatapp serve` in its own process group, on the test database and the fake Ollama."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "API_KEY": ADMIN_KEY,
        "OLLAMA_HOST": fake_ollama.url,
        "LEGACY_IMPORT_ON_START": "false",
        "LOG_LEVEL": "WARNING",
    }
    command = [str(CHATAPP), "serve", "--port", str(port), "--workers", "1", "--threads", "4"]
    with open(tmp_path / "server.log", "wb") as log:
        process = subprocess.Popen(
            command, env=env, cwd=tmp_path, stdout=log, stderr=log, start_new_session=True
        )
    server = Served("127.0.0.1", port, process)
    try:
        wait_for(lambda: up(server.url) or process.poll() is not None, timeout=60)
        assert process.poll() is None, (tmp_path / "server.log").read_text()
        yield server
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


Stream = tuple[http.client.HTTPConnection, http.client.HTTPResponse]


def open_stream(
    server: Served, chat_id: str, path: str = "/chat", **body: object
) -> tuple[Stream, list[str]]:
    """Start a streamed turn (by default a new message) and read until three deltas arrived."""
    connection = http.client.HTTPConnection(server.host, server.port, timeout=30)
    body = body or {"message": "Write a long essay"}
    payload = json.dumps({**body, "chat_id": chat_id, "stream": True})
    headers = {**bearer(ADMIN_KEY), "Content-Type": "application/json"}
    connection.request("POST", path, body=payload, headers=headers)
    response = connection.getresponse()
    assert response.status == 200
    received: list[str] = []
    while len(received) < 3:
        line = response.readline().decode()
        if line.startswith("data: ") and '"content"' in line:
            received.append(json.loads(line[len("data: ") :])["content"])
    return (connection, response), received


def hang_up(stream: Stream) -> None:
    """Close the client's socket for real (the response's reader would keep it open)."""
    connection, response = stream
    with contextlib.suppress(OSError):  # a killed server may have reset it already
        connection.sock.shutdown(socket.SHUT_RDWR)
    response.close()
    connection.close()


def stored_messages(server: Served, chat_id: str) -> list[dict] | None:
    response = requests.get(
        f"{server.url}/chat/history/{chat_id}", headers=bearer(ADMIN_KEY), timeout=10
    )
    return response.json()["history"]["messages"] if response.status_code == 200 else None


def test_socket_closed_mid_stream_stores_the_partial_reply_as_cancelled(served, fake_ollama):
    fake_ollama.tokens = list(TOKENS)
    fake_ollama.token_delay = 0.05
    stream, received = open_stream(served, "gone")
    hang_up(stream)  # the client goes away mid-stream

    messages = wait_for(lambda: stored_messages(served, "gone"))
    reply = messages[-1]
    assert [m["role"] for m in messages] == ["system", "user", "assistant"]
    assert reply["finish_reason"] == "cancelled"
    # What the client saw is stored; the server may have sent a little more before it noticed.
    assert reply["content"].startswith("".join(received))
    assert len(reply["content"]) < len("".join(TOKENS))
    # And the upstream connection was closed, so the model stopped generating.
    assert fake_ollama.disconnected.wait(10)


def test_socket_closed_mid_regenerate_stores_a_cancelled_sibling_made_current(served, fake_ollama):
    fake_ollama.tokens = ["first answer"]
    answer = requests.post(
        f"{served.url}/chat",
        json={"message": "Write a long essay", "chat_id": "again"},
        headers=bearer(ADMIN_KEY),
        timeout=30,
    ).json()
    fake_ollama.tokens = list(TOKENS)
    fake_ollama.token_delay = 0.05
    stream, received = open_stream(served, "again", "/chat/regenerate", model="qwen2.5:7b")
    hang_up(stream)

    def cancelled_leaf() -> dict | None:
        leaf = stored_messages(served, "again")[-1]
        return leaf if leaf["finish_reason"] == "cancelled" else None

    leaf = wait_for(cancelled_leaf)
    assert leaf["parent_id"] == answer["user_message_id"]
    assert leaf["sibling_ids"] == [answer["message_id"], leaf["id"]]
    assert leaf["content"].startswith("".join(received))
    assert fake_ollama.disconnected.wait(10)


def test_server_killed_mid_stream_leaves_the_chat_consistent(
    served, fake_ollama, database_url, tmp_path
):
    fake_ollama.tokens = list(TOKENS)
    fake_ollama.token_delay = 0.05
    stream, _ = open_stream(served, "killed")
    os.killpg(served.process.pid, signal.SIGKILL)
    served.process.wait(timeout=30)
    hang_up(stream)

    # A fresh server on the same database: the half-streamed turn left nothing behind.
    port = free_port()
    env = {**os.environ, "DATABASE_URL": database_url, "API_KEY": ADMIN_KEY}
    env |= {"OLLAMA_HOST": fake_ollama.url, "LEGACY_IMPORT_ON_START": "false"}
    command = [str(CHATAPP), "serve", "--port", str(port), "--workers", "1", "--threads", "2"]
    restarted = subprocess.Popen(
        command, env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    server = Served("127.0.0.1", port, restarted)
    try:
        wait_for(lambda: up(server.url), timeout=60)
        assert stored_messages(server, "killed") is None
        fake_ollama.tokens, fake_ollama.token_delay = ["fine"], 0.0
        answer = requests.post(
            f"{server.url}/chat",
            json={"message": "again", "chat_id": "killed"},
            headers=bearer(ADMIN_KEY),
            timeout=30,
        )
        assert answer.status_code == 200
        assert [m["role"] for m in stored_messages(server, "killed")] == [
            "system",
            "user",
            "assistant",
        ]
    finally:
        restarted.terminate()
        restarted.wait(timeout=30)
