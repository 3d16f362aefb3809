"""The transport under the fake LLM servers: a threaded HTTP/1.1 server and its exchanges."""

from __future__ import annotations

import json
import select
import socket
import sys
import threading
import time
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol
from urllib.parse import parse_qs, urlsplit

_POLL = 0.02  # seconds between checks while sleeping or hanging, so shutdown is prompt
_HANG_LIMIT = 300.0  # a hung request gives up on its own after this, whatever happens


@dataclass
class RecordedRequest:
    """One request the fake received; attributes also readable as req["json"]."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: Message
    body: bytes
    json: Any
    client: tuple[str, int]  # the client's address: same port means a reused connection

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)


@dataclass
class Generation:
    """Per-reset state, so a request left over from a previous test can't touch this one's."""

    requests: list[RecordedRequest] = field(default_factory=list)
    disconnected: threading.Event = field(default_factory=threading.Event)
    released: threading.Event = field(default_factory=threading.Event)


class App(Protocol):
    """What the server needs from a fake: the current generation and a request handler."""

    @property
    def generation(self) -> Generation: ...

    def handle(self, exchange: Exchange) -> None: ...


class Exchange:
    """One request being answered: the recorded request plus ways to write the answer."""

    def __init__(self, handler: _Handler, request: RecordedRequest, gen: Generation) -> None:
        self.handler = handler
        self.request = request
        self.gen = gen

    @property
    def body(self) -> Any:
        return self.request.json

    def send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        self.send_bytes(status, json.dumps(payload).encode(), "application/json", headers)

    def send_bytes(
        self,
        status: int,
        data: bytes,
        content_type: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        h = self.handler
        try:
            h.send_response(status)
            h.send_header("Content-Type", content_type)
            h.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                h.send_header(name, value)
            h.end_headers()
            h.wfile.write(data)
        except OSError:
            self._gone()

    def start_stream(self, content_type: str) -> bool:
        h = self.handler
        try:
            h.send_response(200)
            h.send_header("Content-Type", content_type)
            h.send_header("Transfer-Encoding", "chunked")
            h.send_header("Cache-Control", "no-cache")
            h.end_headers()
        except OSError:
            return self._gone()
        return True

    def write(self, data: bytes) -> bool:
        """Send one HTTP chunk; False (and disconnected set) when the client has gone."""
        if self.client_closed():
            return self._gone()
        try:
            self.handler.wfile.write(b"%X\r\n%s\r\n" % (len(data), data))
        except OSError:
            return self._gone()
        return True

    def end_stream(self) -> None:
        try:
            self.handler.wfile.write(b"0\r\n\r\n")
        except OSError:
            # Every frame got through; a client that hangs up as soon as it has read the
            # last one did not leave early, so this is no disconnect.
            self.handler.close_connection = True

    def pause(self, seconds: float) -> bool:
        """Sleep; False when the fake was reset or stopped, or the client left, meanwhile."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if self.gen.released.wait(min(_POLL, left)):
                self.handler.close_connection = True
                return False
            if self.client_closed():
                return self._gone()
        return True

    def hang(self) -> None:
        """Never answer: wait until the client leaves or the fake is reset or stopped."""
        self.pause(_HANG_LIMIT)
        self.handler.close_connection = True

    def drop(self) -> None:
        """Close the connection without a word, as a server that crashed on accepting it."""
        self.handler.close_connection = True
        try:
            self.handler.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def client_closed(self) -> bool:
        # HTTP/1.1 clients send nothing while awaiting a response, so a readable socket
        # here means end of file: the client closed the connection.
        sock = self.handler.connection
        try:
            readable, _, _ = select.select([sock], [], [], 0)
            return bool(readable) and not sock.recv(1, socket.MSG_PEEK)
        except (OSError, ValueError):
            return True

    def _gone(self) -> bool:
        self.gen.disconnected.set()
        self.handler.close_connection = True
        return False


class HttpServer(ThreadingHTTPServer):
    """Serves each connection on its own daemon thread, and can drop them all at stop."""

    daemon_threads = True
    allow_reuse_address = True
    # The default listen backlog of 5 drops connection bursts, and a dropped SYN costs
    # the client a one-second retry.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], app: App) -> None:
        self.app = app
        self._connections: set[socket.socket] = set()
        self._lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        with self._lock:
            self._connections.add(request)
        try:
            super().process_request_thread(request, client_address)
        finally:
            with self._lock:
                self._connections.discard(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that closes with unread data resets the connection: normal, not news.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)

    def drop_connections(self) -> None:
        """Wake every handler thread blocked on an idle keep-alive connection."""
        with self._lock:
            connections = list(self._connections)
        for sock in connections:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so clients can reuse connections
    # Headers and body go out in separate writes; with Nagle on, the client's delayed ACK
    # would add ~40 ms to every answer.
    disable_nagle_algorithm = True
    server: HttpServer

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean

    def _dispatch(self) -> None:
        app = self.server.app
        gen = app.generation
        exchange = Exchange(self, self._record(), gen)
        gen.requests.append(exchange.request)
        app.handle(exchange)

    def _record(self) -> RecordedRequest:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        try:
            parsed = json.loads(body) if body else None
        except ValueError:
            parsed = None
        parts = urlsplit(self.path)
        return RecordedRequest(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query),
            headers=self.headers,
            body=body,
            json=parsed,
            client=self.client_address[:2],
        )
