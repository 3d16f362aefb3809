"""`chatapp serve` on gevent, PostgreSQL: hundreds of streams and slow clients at once."""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field

import pytest
import requests

from tests.api.chatkit import wait_for
from tests.conftest import ADMIN_KEY, bearer
from tests.servers import admitted, chatapp_server, open_chat_stream

pytestmark = pytest.mark.slow

STREAMS = 300
USERS = 38  # MAX_STREAMS_PER_USER is 8: 300 streams need 38 users
SLOW_CLIENTS = 200
TOKENS = [f" t{i}" for i in range(8)]
HALF_HEADERS = b"GET /health HTTP/1.1\r\nHost: slow\r\nX-Slow: "
HALF_BODY = b"POST /me/keys HTTP/1.1\r\nHost: slow\r\nContent-Length: 999\r\n\r\n{"


@pytest.fixture
def served(empty_postgres_url, fake_ollama, tmp_path) -> Iterator[str]:
    """`chatapp serve`, 2 gevent workers, with limits far above what the load needs."""
    env = {
        "DATABASE_URL": empty_postgres_url, "API_KEY": ADMIN_KEY, "OLLAMA_HOST": fake_ollama.url,
        "LEGACY_IMPORT_ON_START": "false", "LOG_LEVEL": "WARNING",
        "RATE_LIMIT_PER_HOUR": "100000", "CHAT_RATE_LIMIT": "100000/minute",
    }  # fmt: skip
    with chatapp_server(env, tmp_path, workers=2, worker_class="gevent") as url:
        yield url


def new_user(url: str, username: str) -> str:
    response = requests.post(
        f"{url}/users", json={"username": username}, headers=bearer(ADMIN_KEY), timeout=10
    )
    assert response.status_code == 201, response.text
    return response.json()["api_key"]


def stream_turn(url: str, key: str, chat_id: str) -> str:
    """A streamed turn read to its end; the name of its last event."""
    host, port = url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=60)
    body = json.dumps({"message": "Count slowly", "chat_id": chat_id, "stream": True})
    headers = {**bearer(key), "Content-Type": "application/json"}
    connection.request("POST", "/chat", body, headers)
    response = connection.getresponse()
    events = [line for line in response.read().decode().splitlines() if line.startswith("event:")]
    connection.close()
    return f"{response.status} {events[-1] if events else ''}"


@dataclass
class Poller:
    """Another user's requests, one after another, until stopped: every status seen."""

    url: str
    key: str
    statuses: list[int | str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        with requests.Session() as session:
            while not self.stop.wait(0.1):
                try:
                    answer = session.get(f"{self.url}/me", headers=bearer(self.key), timeout=5)
                    self.statuses.append(answer.status_code)
                except requests.RequestException as exc:
                    self.statuses.append(type(exc).__name__)


@contextmanager
def polling(url: str, key: str) -> Iterator[Poller]:
    poller = Poller(url, key)
    thread = threading.Thread(target=poller.run)
    thread.start()
    try:
        yield poller
    finally:
        poller.stop.set()
        thread.join()


def test_hundreds_of_streams_complete_and_are_stored_while_others_are_answered(served, fake_ollama):
    fake_ollama.tokens = TOKENS
    fake_ollama.token_delay = 0.75  # each stream lasts about 6 s: all overlap, ramp included
    keys = [new_user(served, f"user{i}") for i in range(USERS)]
    results: dict[int, str] = {}

    def turn(i: int) -> None:
        results[i] = stream_turn(served, keys[i % USERS], f"load-{i}")

    clients = [threading.Thread(target=turn, args=(i,)) for i in range(STREAMS)]
    with polling(served, new_user(served, "bystander")) as poller:
        for client in clients:  # 100 new streams a second, as a busy instance sees them
            client.start()
            time.sleep(0.01)
        for client in clients:
            client.join()

    assert set(results.values()) == {"200 event: done"}
    assert poller.statuses and set(poller.statuses) == {200}
    lists = [
        requests.get(f"{served}/chat/history", headers=bearer(key), timeout=30).json()
        for key in keys
    ]
    assert sum(listed["total"] for listed in lists) == STREAMS
    counts = {chat["message_count"] for listed in lists for chat in listed["chats"].values()}
    assert counts == {2}


@contextmanager
def slow_clients(url: str, count: int) -> Iterator[None]:
    """`count` connections that sent half their headers (or half a body) and then went quiet."""
    host, port = url.removeprefix("http://").split(":")
    with ExitStack() as stack:
        for i in range(count):
            sock = stack.enter_context(socket.create_connection((host, int(port)), timeout=10))
            sock.sendall(HALF_BODY if i % 4 == 0 else HALF_HEADERS)
        yield


def test_slow_clients_leave_the_server_answering(served):
    key = new_user(served, "patient")
    with slow_clients(served, SLOW_CLIENTS):
        for _ in range(5):
            assert requests.get(f"{served}/health", timeout=2).status_code == 200
            assert requests.get(f"{served}/me", headers=bearer(key), timeout=2).status_code == 200


def test_a_users_ninth_stream_gets_429_and_a_vanished_client_frees_its_slot(
    empty_postgres_url, fake_ollama, tmp_path
):
    """The default MAX_STREAMS_PER_USER (8), counted across both workers."""
    fake_ollama.tokens = [" more"] * 3000
    fake_ollama.token_delay = 0.02
    env = {"DATABASE_URL": empty_postgres_url, "API_KEY": ADMIN_KEY,
           "OLLAMA_HOST": fake_ollama.url, "LEGACY_IMPORT_ON_START": "false"}  # fmt: skip
    with chatapp_server(env, tmp_path, workers=2) as url:
        held = [open_chat_stream(url, bearer(ADMIN_KEY), f"held-{i}") for i in range(8)]
        ninth = open_chat_stream(url, bearer(ADMIN_KEY), "ninth")
        assert [stream.status_code for stream in held] == [200] * 8
        assert ninth.status_code == 429
        assert ninth.json()["error"]["code"] == "rate_limited"
        ninth.close()
        held.pop().close()  # that client vanishes
        again = wait_for(lambda: admitted(open_chat_stream(url, bearer(ADMIN_KEY), "again")))
        for stream in (*held, again):
            stream.close()
