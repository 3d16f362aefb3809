"""Server-Sent Events: a turn's events as the chat's SSE text, in a response spectree passes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import closing
from typing import Any, assert_never

from flask import stream_with_context
from spectree import Response as SpecResponse
from werkzeug.wrappers import Response as WerkzeugResponse

from chatapp.errors import api_error
from chatapp.openapi import AUTHENTICATED_ERRORS
from chatapp.schemas.chat import UsageOut
from chatapp.schemas.common import ErrorResponse
from chatapp.services.turn_events import Delta, Done, Failed, Ping, Started, TurnEvent, TurnEvents

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
PING = ": ping\n\n"  # a comment line: clients skip it, proxies see the connection is alive


def chat_events(events: TurnEvents) -> Iterator[str]:
    """A chat turn as Server-Sent Events: start, delta, done or error, and pings."""
    with closing(events):  # a client that leaves ends the turn, which stores it as cancelled
        for event in events:
            yield chat_event(event)


def chat_event(event: TurnEvent) -> str:
    match event:
        case Started(model=model, chat_id=chat_id):
            return sse("start", {"chat_id": chat_id, "model": model})
        case Delta(content=content):
            return sse("delta", {"content": content})
        case Ping():
            return PING
        case Done(usage=usage, finish_reason=finish, chat_id=chat_id, model=model):
            usage_out = UsageOut.of(usage).model_dump()
            done = {"chat_id": chat_id, "usage": usage_out, "finish_reason": finish, "model": model}
            return sse("done", done)
        case Failed(error=error):
            return sse("error", error_body(error))
        case _:
            assert_never(event)


def sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def error_body(exc: Exception) -> dict[str, Any]:
    """The in-band error of a stream whose status is sent: mapped (and logged) in errors.py."""
    error = api_error(exc)
    return {"error": {"code": error.code, "message": error.message}}


def event_stream(events: Iterator[str]) -> WerkzeugResponse:
    """A streamed `text/event-stream` response that keeps the request context while it runs.

    It is a plain werkzeug Response on purpose: spectree reads a Flask Response's whole body
    (get_data) to validate it, which would buffer the stream; werkzeug's passes untouched.
    """
    return WerkzeugResponse(
        stream_with_context(events), mimetype="text/event-stream", headers=SSE_HEADERS
    )


class JsonOrEventStream(SpecResponse):
    """A 200 documented as a JSON model, or as an event stream, and validated as neither.

    A view returns its JSON as a plain dict (our own model's dump) or an `event_stream`.
    """

    def find_model(self, code: int) -> Any:
        return None if code == 200 else super().find_model(code)

    def generate_spec(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        spec = super().generate_spec(*args, **kwargs)
        content = spec["200"].setdefault("content", {})
        content["text/event-stream"] = {"schema": {"type": "string"}}
        return spec


def json_or_event_stream(model: Any, *errors: int) -> JsonOrEventStream:
    """Like `documented`, for a route that may answer with Server-Sent Events."""
    statuses = (*AUTHENTICATED_ERRORS, *errors)
    return JsonOrEventStream(HTTP_200=model, **{f"HTTP_{code}": ErrorResponse for code in statuses})
