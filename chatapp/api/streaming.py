"""Server-Sent Events: a turn's events as the chat's SSE text, in a response spectree passes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import closing
from typing import Any, assert_never

from flask import stream_with_context
from pydantic import BaseModel
from spectree import Response as SpecResponse
from werkzeug.wrappers import Response as WerkzeugResponse

from chatapp.errors import api_error
from chatapp.openapi import AUTHENTICATED_ERRORS, sse_event
from chatapp.schemas.chat import (
    CHAT_EVENTS,
    StreamDelta,
    StreamDone,
    StreamError,
    StreamErrorBody,
    StreamStart,
    UsageOut,
)
from chatapp.schemas.common import ErrorResponse
from chatapp.services.turn_events import Delta, Done, Failed, Ping, Started, TurnEvent, TurnEvents

SSE_HEADERS = {"Cache-Control": "no-store", "X-Accel-Buffering": "no"}
PING = ": ping\n\n"  # a comment line: clients skip it, proxies see the connection is alive


def chat_events(events: TurnEvents) -> Iterator[str]:
    """A chat turn as Server-Sent Events: start, delta, done or error, and pings."""
    with closing(events):  # a client that leaves ends the turn, which stores it as cancelled
        for event in events:
            yield chat_event(event)


def chat_event(event: TurnEvent) -> str:
    match event:
        case Started(model=model, chat_id=chat_id, user_message_id=question):
            start = StreamStart(chat_id=chat_id, model=model, user_message_id=str(question))
            return sse("start", start)
        case Delta(content=content):
            return sse("delta", StreamDelta(content=content))
        case Ping():
            return PING
        case Done(
            usage=usage, finish_reason=finish, chat_id=chat_id, model=model, message_id=reply
        ):
            usage_out = UsageOut.of(usage)
            done = StreamDone(
                chat_id=chat_id,
                usage=usage_out,
                finish_reason=finish,
                model=model,
                message_id=str(reply),
            )
            return sse("done", done)
        case Failed(error=error):
            return sse("error", error_body(error))
        case _:
            assert_never(event)


def sse(event: str, data: BaseModel) -> str:
    return (
        f"event: {event}\ndata: {json.dumps(data.model_dump(mode='json'), ensure_ascii=False)}\n\n"
    )


def error_body(exc: Exception) -> StreamError:
    """The in-band error of a stream whose status is sent: mapped (and logged) in errors.py."""
    error = api_error(exc)
    return StreamError(error=StreamErrorBody(code=error.code, message=error.message))


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

    def __init__(self, events: list[dict[str, Any]], *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.events = events

    def find_model(self, code: int) -> Any:
        return None if code == 200 else super().find_model(code)

    def generate_spec(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        spec = super().generate_spec(*args, **kwargs)
        content = spec["200"].setdefault("content", {})
        # One event's schema, as an OpenAPI 3.2 `itemSchema` says it; `: ping` comments aside.
        content["text/event-stream"] = {"schema": {"oneOf": self.events}}
        return spec


def json_or_event_stream(
    model: Any, events: list[dict[str, Any]], *errors: int
) -> JsonOrEventStream:
    """Like `documented`, for a route that may answer with these Server-Sent Events."""
    statuses = (*AUTHENTICATED_ERRORS, *errors)
    table = {f"HTTP_{code}": ErrorResponse for code in statuses}
    return JsonOrEventStream(events, HTTP_200=model, **table)


CHAT_EVENT_SCHEMAS = [sse_event(name, model) for name, model in CHAT_EVENTS.items()]
