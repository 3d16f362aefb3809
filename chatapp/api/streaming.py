"""Server-Sent Events responses that go through spectree without being buffered."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from flask import stream_with_context
from spectree import Response as SpecResponse
from werkzeug.wrappers import Response as WerkzeugResponse

from chatapp.openapi import AUTHENTICATED_ERRORS
from chatapp.schemas.common import ErrorResponse

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


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
