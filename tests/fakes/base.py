"""Shared machinery of the fake LLM servers: knobs, chat turns, streamed frames and the CLI."""

from __future__ import annotations

import argparse
import copy
import json
import signal
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from tests.fakes.server import Exchange, Generation, HttpServer, RecordedRequest

__all__ = ["Exchange", "FakeServer", "RecordedRequest", "StreamFrames", "Turn", "run_cli"]

_WORDS = "Hello there, this is a streamed reply from a fake local model server.".split()


def text_tokens(text: str) -> list[str]:
    """A given reply as the pieces an LLM would stream: words with the spacing that follows."""
    pieces, current = [], ""
    for char in text:
        current += char
        if char in " \n":
            pieces.append(current)
            current = ""
    return pieces + ([current] if current else [])


def word_tokens(count: int) -> list[str]:
    """count readable tokens, for humans and benchmarks watching the stream."""
    return [("" if i == 0 else " ") + _WORDS[i % len(_WORDS)] for i in range(count)]


@dataclass
class Turn:
    """What a chat request asked for, and the answer the fake will give."""

    model: str
    tokens: list[str]
    finish: str  # "stop" or "length"
    prompt_tokens: int
    stream: bool
    raw: dict[str, Any]
    tool_calls: list[dict[str, Any]]  # {"name", "arguments": {...}}: the answer calls these

    @property
    def text(self) -> str:
        return "".join(self.tokens)


class FakeServer:
    """A real HTTP server on 127.0.0.1 that speaks one provider's wire format.

    Knobs are plain attributes, read as each request is answered. reset() restores the values
    given to the constructor, clears the recorded requests and releases hung requests.
    """

    provider: ClassVar[str] = "fake"
    url_suffix: ClassVar[str] = ""
    stream_error_status: ClassVar[int] = 500  # the status whose error an in-band frame carries
    default_models: ClassVar[list[str]] = []

    def __init__(self, host: str = "127.0.0.1", port: int = 0, **knobs: Any) -> None:
        self._defaults = self.knob_defaults()
        unknown = set(knobs) - set(self._defaults)
        if unknown:
            raise TypeError(f"unknown knobs: {sorted(unknown)}")
        self._defaults.update(knobs)
        self._address = (host, port)
        self._gen = Generation()
        self._server: HttpServer | None = None
        self._thread: threading.Thread | None = None
        self._apply_defaults()

    # Declared for type checkers; set by _apply_defaults().
    tokens: list[str]
    token_delay: float
    first_token_delay: float
    models: list[str]
    fail_status: int | None
    retry_after: str | None
    error_message: str | None
    error_after: int | None
    drop_after: int | None
    malformed: bool
    hang: bool
    drop_requests: int
    answer_delay: float
    report_usage: bool
    api_key: str | None
    tool_calls: list[dict[str, Any]]

    def knob_defaults(self) -> dict[str, Any]:
        return {
            "tokens": ["Hello", " world", "!"],
            "token_delay": 0.0,
            "first_token_delay": 0.0,
            "models": list(self.default_models),
            "fail_status": None,  # answer every request with this status and an error body
            "retry_after": None,  # a Retry-After header on the fail_status answers
            "error_message": None,  # the message in error bodies; None: a realistic one
            "error_after": None,  # stream this many tokens, then an in-band error frame
            "drop_after": None,  # stream this many tokens, then drop the connection (a crash)
            "malformed": False,  # answer with a body (or stream line) that isn't JSON
            "hang": False,  # accept the request and never answer
            "drop_requests": 0,  # close the connection of this many requests without an answer
            "answer_delay": 0.0,  # wait this long before answering anything
            "report_usage": True,  # include token counts
            "api_key": None,  # when set, requests must carry this key
            # [{"name", "arguments": {...}}]: to a request that offers tools, answer with these
            # calls instead of text, in the provider's own tool-call format.
            "tool_calls": [],
        }

    def _apply_defaults(self) -> None:
        for name, value in copy.deepcopy(self._defaults).items():
            setattr(self, name, value)

    @property
    def url(self) -> str:
        host, port = self.address
        return f"http://{host}:{port}{self.url_suffix}"

    @property
    def address(self) -> tuple[str, int]:
        if self._server is None:
            raise RuntimeError("the fake server is not running")
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    @property
    def generation(self) -> Generation:
        return self._gen

    @property
    def requests(self) -> list[RecordedRequest]:
        return self._gen.requests

    @property
    def disconnected(self) -> threading.Event:
        """Set when a client went away before its answer was complete."""
        return self._gen.disconnected

    def reset(self) -> None:
        old, self._gen = self._gen, Generation()
        old.released.set()
        self._apply_defaults()

    def start(self) -> Self:
        self._server = HttpServer(self._address, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"fake-{self.provider}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._gen.released.set()
        self._server.shutdown()
        self._server.drop_connections()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def handle(self, exchange: Exchange) -> None:
        """Answer one request: the failure knobs first, then the route."""
        route = self.routes().get((exchange.request.method, exchange.request.path))
        denied = self.auth_failure(exchange)
        if self.answer_delay and not exchange.pause(self.answer_delay):
            return
        if self.drop_requests > 0:
            self.drop_requests -= 1
            exchange.drop()
        elif self.hang:
            exchange.hang()
        elif self.fail_status:
            status = self.fail_status
            headers = {"Retry-After": self.retry_after} if self.retry_after else None
            exchange.send_json(status, self.error_body(status, self.message(status)), headers)
        elif denied:
            exchange.send_json(denied[0], self.error_body(*denied))
        elif route is None:
            exchange.send_bytes(404, b"404 page not found", "text/plain")
        else:
            route(exchange)

    # --- what subclasses provide -------------------------------------------------------

    def routes(self) -> dict[tuple[str, str], Callable[[Exchange], None]]:
        raise NotImplementedError

    def error_body(self, status: int, message: str) -> dict[str, Any]:
        raise NotImplementedError

    def default_error_message(self, status: int) -> str:
        return f"simulated {self.provider} failure (HTTP {status})"

    def auth_failure(self, exchange: Exchange) -> tuple[int, str] | None:
        """(status, message) when the request's credentials are wrong, else None."""
        return None

    # --- helpers for subclasses ----------------------------------------------------------

    def knows_model(self, model: Any) -> bool:
        return isinstance(model, str) and model in self.models

    def make_turn(self, body: dict[str, Any], messages: list[Any], limit: Any) -> Turn:
        """The answer to a chat request: the tokens, cut to the requested limit."""
        tokens = list(self.tokens)
        finish = "stop"
        if isinstance(limit, int) and 0 <= limit < len(tokens):
            tokens, finish = tokens[:limit], "length"
        words = sum(len(str(m.get("content", "")).split()) for m in messages if isinstance(m, dict))
        return Turn(
            model=str(body.get("model")),
            tokens=tokens,
            finish=finish,
            prompt_tokens=words,
            stream=bool(body.get("stream")),
            raw=body,
            tool_calls=list(self.tool_calls) if body.get("tools") else [],
        )

    def message(self, status: int) -> str:
        return self.error_message or self.default_error_message(status)

    def answer(self, exchange: Exchange, payload: Any) -> None:
        """Send a 200 JSON answer, or garbage when the malformed knob is on."""
        if self.malformed:
            exchange.send_bytes(200, b"<html>not json{", "application/json")
        else:
            exchange.send_json(200, payload)

    def chat_failure(self, exchange: Exchange, turn: Turn) -> bool:
        """Answer the failures common to chat requests; True when one was sent."""
        if not self.knows_model(turn.model):
            status, payload = self.model_not_found(turn.model)
            exchange.send_json(status, payload)
            return True
        if self.error_after is not None and not turn.stream:
            # Without streaming, a failure during generation can only be an error status.
            exchange.send_json(500, self.error_body(500, self.message(500)))
            return True
        return False

    def model_not_found(self, model: str) -> tuple[int, dict[str, Any]]:
        raise NotImplementedError


def stream_turn(
    fake: FakeServer,
    exchange: Exchange,
    content_type: str,
    frames: StreamFrames,
    turn: Turn,
) -> None:
    """Stream a turn in the fake's format, obeying the delay, error and malformed knobs."""
    if not exchange.start_stream(content_type):
        return
    for frame in _frames(fake, frames, turn, exchange):
        if frame is None or not exchange.write(frame):
            # The answer is incomplete, so the connection can't carry another request.
            exchange.handler.close_connection = True
            return
    exchange.end_stream()


def _frames(
    fake: FakeServer, frames: StreamFrames, turn: Turn, exchange: Exchange
) -> Iterator[bytes | None]:
    # None means "stop here, unfinished": a pause was interrupted, or drop_after says so.
    if fake.malformed:
        yield frames.malformed()
        return
    yield from frames.opening(turn)
    if turn.tool_calls:
        yield from frames.tool_calls(turn)
        yield from frames.closing(turn, 0)
        return
    error_after = fake.error_after
    head = turn.tokens if error_after is None else turn.tokens[:error_after]
    for i, token in enumerate(head):
        delay = fake.first_token_delay if i == 0 else fake.token_delay
        if (delay and not exchange.pause(delay)) or i == fake.drop_after:
            yield None
            return
        yield frames.token(turn, token)
    if fake.drop_after is not None:
        yield None
        return
    if error_after is not None:
        yield frames.error(fake.message(fake.stream_error_status))
        return
    yield from frames.closing(turn, len(head))


class StreamFrames:
    """How one provider encodes each part of a streamed answer."""

    def opening(self, turn: Turn) -> list[bytes]:
        return []

    def token(self, turn: Turn, token: str) -> bytes:
        raise NotImplementedError

    def tool_calls(self, turn: Turn) -> list[bytes]:
        raise NotImplementedError(f"{type(self).__name__} speaks no tool calls")

    def closing(self, turn: Turn, completion_tokens: int) -> list[bytes]:
        raise NotImplementedError

    def error(self, message: str) -> bytes:
        raise NotImplementedError

    def malformed(self) -> bytes:
        raise NotImplementedError


def sse(data: Any, event: str | None = None) -> bytes:
    """One Server-Sent Event with a JSON (or literal string) data field."""
    text = data if isinstance(data, str) else json.dumps(data)
    head = f"event: {event}\n" if event else ""
    return f"{head}data: {text}\n\n".encode()


def run_cli(fake_class: type[FakeServer], default_port: int, argv: list[str] | None = None) -> None:
    """Run a fake in the foreground until Ctrl+C (python -m tests.fakes.<provider>)."""
    parser = argparse.ArgumentParser(description=f"A fake {fake_class.provider} server.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=default_port)
    parser.add_argument("--tokens", type=int, default=3, help="tokens per reply")
    parser.add_argument("--token-delay", type=float, default=0.0, help="seconds between tokens")
    parser.add_argument("--first-token-delay", type=float, default=0.0)
    parser.add_argument("--model", action="append", help="a known model (repeatable)")
    args = parser.parse_args(argv)
    knobs: dict[str, Any] = {
        "tokens": word_tokens(args.tokens),
        "token_delay": args.token_delay,
        "first_token_delay": args.first_token_delay,
    }
    if args.model:
        knobs["models"] = args.model
    # Benchmarks stop the fake with terminate(): make SIGTERM as clean as Ctrl+C.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with fake_class(args.host, args.port, **knobs) as fake:
        print(f"fake {fake.provider} listening on {fake.url} (Ctrl+C to stop)", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            pass
