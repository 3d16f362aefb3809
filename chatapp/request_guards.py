"""Guards on a request's shape, before anyone looks at its key: its body and its path."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from io import BytesIO
from itertools import accumulate
from typing import IO, Any

from flask import Flask, current_app, request
from werkzeug.wsgi import get_input_stream

from chatapp.errors import BadRequest, PayloadTooLarge, UnsupportedMediaType, ValidationFailed

BODY_METHODS = {"POST", "PUT", "PATCH"}
MAX_JSON_DEPTH = 64  # deeper nesting is refused before any parser recurses into it
# An oversized body is read and dropped up to this much before the 413, so that a client that
# sends it all before reading gets the answer instead of a reset connection.
DRAIN_LIMIT = 16 * 1024 * 1024
DRAIN_CHUNK = 64 * 1024

_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_NOT_A_BRACKET = re.compile(rb"[^\[\]{}]")
_NESTING = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def require_json_object_body() -> None:
    """A body, when sent, must be a JSON object: 413 when too large, 415 for another type,
    400 for bad, empty or too deeply nested JSON."""
    if request.method not in BODY_METHODS:
        return
    body = read_body()
    if request.is_json:
        check_json_object(body)
    elif body:
        raise UnsupportedMediaType()


def read_body() -> bytes:
    """The whole body, read once and handed on to the view; 413 (after draining) when it
    is longer than MAX_CONTENT_LENGTH, whether it says so up front or arrives chunked."""
    limit = current_app.config["MAX_CONTENT_LENGTH"]
    stream = get_input_stream(request.environ, safe_fallback=True, max_content_length=None)
    body = b"" if (request.content_length or 0) > limit else _read_at_most(stream, limit + 1)
    if len(body) > limit or (request.content_length or 0) > limit:
        _drain(stream)
        raise PayloadTooLarge()
    # What the view reads: the same bytes, now with their length known.
    request.environ.update({"wsgi.input": BytesIO(body), "CONTENT_LENGTH": str(len(body))})
    request.environ.pop("HTTP_TRANSFER_ENCODING", None)
    return body


def _read_at_most(stream: IO[bytes], size: int) -> bytes:
    """Up to `size` bytes; a read may return less than asked before the end."""
    chunks, total = [], 0
    while total < size and (chunk := stream.read(min(DRAIN_CHUNK, size - total))):
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)


def _drain(stream: IO[bytes]) -> None:
    """Read and drop what is left of the body, up to DRAIN_LIMIT."""
    drained = 0
    while drained < DRAIN_LIMIT and (chunk := stream.read(DRAIN_CHUNK)):
        drained += len(chunk)


def check_json_object(body: bytes) -> None:
    if not body:
        raise BadRequest("The request body is empty; send a JSON object")
    if json_depth(body) > MAX_JSON_DEPTH:
        raise BadRequest(f"The JSON body is nested deeper than {MAX_JSON_DEPTH} levels")
    if not isinstance(request.get_json(silent=True), dict):
        raise BadRequest()


def json_depth(body: bytes) -> int:
    """How deep arrays and objects nest in `body`, counted without parsing (no recursion)."""
    if body.count(b"[") + body.count(b"{") <= MAX_JSON_DEPTH:
        return 0  # the common case: too few brackets to be too deep
    brackets = _NOT_A_BRACKET.sub(b"", _JSON_STRING.sub(b"", body))
    return max(accumulate(_NESTING[byte] for byte in brackets), default=0)


def refuse_nul_in_path() -> None:
    """422 for a NUL in a path segment: no ID can hold one, and PostgreSQL can't compare one."""
    details = [
        {"field": name, "message": "must not contain NUL characters"}
        for name, value in (request.view_args or {}).items()
        if isinstance(value, str) and "\x00" in value
    ]
    if details:
        raise ValidationFailed(details=details)


StartResponse = Callable[..., Any]


class HonourConnectionClose:
    """WSGI middleware: a response that says `Connection: close` does close the connection.

    gunicorn drops an application's hop-by-hop headers and keeps the connection alive, reading
    any unread body (however large) before the next request; its own response object, whose
    bound `start_response` we are handed, can be told to close. The werkzeug server honours the
    header itself.
    """

    def __init__(self, wsgi_app: Callable[[dict, StartResponse], Iterable[bytes]]) -> None:
        self.wsgi_app = wsgi_app

    def __call__(self, environ: dict, start_response: StartResponse) -> Iterable[bytes]:
        def start(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
            if ("Connection", "close") in headers:
                _force_close(start_response)
            return start_response(status, headers, *args)

        return self.wsgi_app(environ, start)


def _force_close(start_response: StartResponse) -> None:
    force_close = getattr(getattr(start_response, "__self__", None), "force_close", None)
    if force_close is not None:  # gunicorn's Response; absent under other servers
        force_close()


def init_app(app: Flask) -> None:
    app.before_request(require_json_object_body)
    app.before_request(refuse_nul_in_path)
    app.wsgi_app = HonourConnectionClose(app.wsgi_app)  # type: ignore[method-assign]
