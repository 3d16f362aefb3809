"""An oversized body sent whole before reading gets its 413 from a real `chatapp serve`."""

from __future__ import annotations

import re
import socket
from urllib.parse import urlsplit

import pytest
import requests

from tests.conftest import ADMIN_KEY, bearer
from tests.servers import chatapp_server

pytestmark = pytest.mark.slow

MIB = 1024 * 1024


@pytest.fixture(params=["gevent", "gthread"])
def served(request: pytest.FixtureRequest, fake_ollama, tmp_path) -> str:
    env = {"DATABASE_URL": f"sqlite:///{tmp_path / 'chatapp.db'}", "API_KEY": ADMIN_KEY,
           "OLLAMA_HOST": fake_ollama.url, "LEGACY_IMPORT_ON_START": "false"}  # fmt: skip
    with chatapp_server(env, tmp_path, workers=1, worker_class=request.param) as url:
        yield url


@pytest.mark.parametrize("size", [MIB + 1, 16 * MIB])
def test_a_whole_oversized_body_gets_413_and_the_connection_closes(served, size):
    headers = {**bearer(ADMIN_KEY), "Content-Type": "application/json"}
    response = requests.post(f"{served}/me/keys", data=b"x" * size, headers=headers, timeout=60)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert response.headers["Connection"] == "close"


def test_the_server_hangs_up_after_the_413(served):
    """The body may not all have been read, so the connection carries no further request."""
    parts = urlsplit(served)
    head = (
        f"POST /me/keys HTTP/1.1\r\nHost: {parts.netloc}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {2 * MIB}\r\n\r\n"
    )
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(head.encode() + b"x" * (2 * MIB))
        assert read_response(sock).startswith(b"HTTP/1.1 413 ")
        assert answer_to_another_request(sock, parts.netloc) == b""


def read_response(sock: socket.socket) -> bytes:
    """One response with a Content-Length, read to its last byte and no further."""
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(65536)
    head, body = data.split(b"\r\n\r\n", 1)
    length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
    while len(body) < length:
        body += sock.recv(65536)
    return head + b"\r\n\r\n" + body


def answer_to_another_request(sock: socket.socket, host: str) -> bytes:
    """What the server says to one more request on the socket; b"" if it hung up."""
    try:
        sock.sendall(f"GET /health HTTP/1.1\r\nHost: {host}\r\n\r\n".encode())
        return sock.recv(65536)
    except ConnectionResetError:
        return b""
