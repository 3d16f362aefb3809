"""A chat turn streamed as Server-Sent Events: pings while waiting, stored once at the end."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

from flask import current_app

from chatapp import llm
from chatapp.errors import ApiError, api_error_from_exception
from chatapp.models import User
from chatapp.providers import Chunk, Provider, ProviderError, Usage
from chatapp.services import chats
from chatapp.services.llm_stream import ProviderStream, open_provider_stream
from chatapp.services.turns import PreparedTurn, TurnRequest, prepare_turn, provider_failure

log = logging.getLogger(__name__)


def sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False)}\n\n"


def error_event(error: ApiError) -> str:
    return sse("error", {"error": {"code": error.code, "message": error.message}})


def start(user: User, request: TurnRequest) -> Iterator[str]:
    """A turn answered as Server-Sent Events."""
    ping_seconds = current_app.config["STREAM_PING_SECONDS"]
    return open_stream(llm.provider(), prepare_turn(user, request), ping_seconds)


def open_stream(provider: Provider, turn: PreparedTurn, ping_seconds: float) -> Iterator[str]:
    """Start the provider's stream and return the SSE text generator.

    A failure before the provider's first chunk is raised here, as the API error it maps to.
    """
    try:
        stream = open_provider_stream(
            provider.stream(turn.context, turn.model, turn.options), ping_seconds
        )
    except Exception as exc:
        raise _as_api_error(turn, exc) from exc
    return _events(turn, stream)


def _as_api_error(turn: PreparedTurn, exc: Exception) -> ApiError:
    if isinstance(exc, ProviderError):
        return provider_failure(turn, exc)
    log.error("chat %s stream failed", turn.chat_id, exc_info=exc)
    return api_error_from_exception(exc)


class _TurnRelay:
    """The chat's events for the provider's stream, and what has been streamed so far."""

    def __init__(self, turn: PreparedTurn) -> None:
        self.turn = turn
        self.parts: list[str] = []
        self.finished = False  # the turn reached its end: stored, or failed

    def content(self, text: str) -> str:
        self.parts.append(text)
        return sse("delta", {"content": text})

    def done(self, last: Chunk) -> str:
        self.finished = True
        return _finish(self, last)

    def failed(self, exc: Exception) -> str:
        self.finished = True
        return error_event(_as_api_error(self.turn, exc))

    def record(self, usage: Usage, finish: str | None) -> chats.TurnRecord:
        return self.turn.record("".join(self.parts), self.turn.model, usage, finish)


def _events(turn: PreparedTurn, stream: ProviderStream) -> Iterator[str]:
    relay = _TurnRelay(turn)
    try:
        yield sse("start", {"chat_id": turn.chat_id, "model": turn.model})
        yield from stream.relay(relay)
    except GeneratorExit:
        # The client went away (noticed on a write): keep what it was sent, marked cancelled.
        if not relay.finished:
            _store_cancelled(relay)
        raise
    finally:
        stream.close()


def _finish(relay: _TurnRelay, last: Chunk) -> str:
    """Store the whole turn, then say `done` (so a client that sees it can read it back)."""
    usage = last.usage or Usage()
    finish = chats.storable_finish_reason(last.finish_reason)
    try:
        chats.store_turn(relay.record(usage, finish))
    except Exception as exc:  # the stream's status is sent: report the failure as an event
        log.error("chat %s: storing the streamed turn failed", relay.turn.chat_id, exc_info=exc)
        return error_event(api_error_from_exception(exc))
    usage_out = {"prompt_tokens": usage.prompt_tokens, "completion_tokens": usage.completion_tokens}
    chat_id = relay.turn.chat_id
    return sse("done", {"chat_id": chat_id, "usage": usage_out, "finish_reason": finish})


def _store_cancelled(relay: _TurnRelay) -> None:
    try:
        chats.store_turn(relay.record(Usage(), "cancelled"))
    except Exception:  # we are inside close(): log, never raise
        log.exception("chat %s: storing the cancelled turn failed", relay.turn.chat_id)
