"""The OpenAI-compatible gateway: the caller's messages to the provider, nothing stored."""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from flask import current_app

from chatapp import llm
from chatapp.errors import ApiError, ValidationFailed, api_error_from_exception
from chatapp.extensions import db
from chatapp.providers import ChatOptions, Chunk, Message, ProviderError
from chatapp.schemas.openai_compat import (
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    Choice,
    ChunkChoice,
    CompletionUsage,
    Delta,
    ModelList,
    ModelObject,
)
from chatapp.services.llm_stream import ProviderStream, open_provider_stream

log = logging.getLogger(__name__)

DONE = "data: [DONE]\n\n"


@dataclass(frozen=True)
class CompletionCall:
    """One request to the provider: what is sent, and the id and model its answer carries."""

    id: str
    created: int
    model: str
    messages: list[Message]
    options: ChatOptions


def complete(
    messages: Sequence[Message], model: str | None, options: ChatOptions
) -> ChatCompletion:
    """The provider's whole answer, as a `chat.completion`."""
    call = _prepare(messages, model, options)
    try:
        reply = llm.provider().chat(call.messages, call.model, call.options)
    except ProviderError as exc:
        raise _as_api_error(call, exc) from exc
    choice = Choice(
        message=AssistantMessage(content=reply.content),
        finish_reason=reply.finish_reason or "stop",
    )
    return ChatCompletion(
        id=call.id,
        created=call.created,
        model=reply.model or call.model,
        choices=[choice],
        usage=CompletionUsage.of(reply.usage),
    )


def stream(
    messages: Sequence[Message], model: str | None, options: ChatOptions, include_usage: bool
) -> Iterator[str]:
    """The answer as `chat.completion.chunk` events, ending with `data: [DONE]`.

    A failure before the provider's first chunk is raised, as the API error it maps to, so
    the response still gets its proper status.
    """
    call = _prepare(messages, model, options)
    chunks = llm.provider().stream(call.messages, call.model, call.options)
    try:
        started = open_provider_stream(chunks, current_app.config["STREAM_PING_SECONDS"])
    except Exception as exc:
        raise _as_api_error(call, exc) from exc
    return _events(_ChunkRelay(call, include_usage), started)


def list_models() -> ModelList:
    """The provider's models, each owned by the provider's name."""
    owner = llm.provider_name()
    return ModelList(data=[ModelObject.of(info, owner) for info in llm.list_models()])


def _prepare(
    messages: Sequence[Message], model: str | None, options: ChatOptions
) -> CompletionCall:
    _check_lengths(messages, current_app.config["MAX_MESSAGE_CHARS"])
    # Authentication read the database: end that transaction, so that no pooled connection
    # waits on the (slow) provider with this request.
    db.session.commit()
    return CompletionCall(
        id=f"chatcmpl-{secrets.token_hex(12)}",
        created=int(time.time()),
        model=llm.resolve_model(model),
        messages=list(messages),
        options=options,
    )


def _check_lengths(messages: Sequence[Message], limit: int) -> None:
    """MAX_MESSAGE_CHARS applies to each user message, as it does on POST /chat."""
    details = [
        {"field": f"messages.{i}.content", "message": f"at most {limit} characters are accepted"}
        for i, message in enumerate(messages)
        if message.role == "user" and len(message.content) > limit
    ]
    if details:
        raise ValidationFailed(details=details)


def _as_api_error(call: CompletionCall, exc: Exception) -> ApiError:
    if isinstance(exc, ProviderError):
        log.warning("provider failed on %s (model %s): %s", call.id, call.model, exc)
    else:
        log.error("%s: the stream failed", call.id, exc_info=exc)
    return api_error_from_exception(exc)


def _data(payload: str) -> str:
    return f"data: {payload}\n\n"


class _ChunkRelay:
    """The provider's stream as OpenAI's `chat.completion.chunk` events."""

    def __init__(self, call: CompletionCall, include_usage: bool) -> None:
        self.call = call
        self.include_usage = include_usage

    def chunk(self, choices: list[ChunkChoice], usage: CompletionUsage | None = None) -> str:
        call = self.call
        chunk = ChatCompletionChunk(
            id=call.id, created=call.created, model=call.model, choices=choices, usage=usage
        )
        return _data(chunk.model_dump_json())

    def first(self) -> str:
        return self.chunk([ChunkChoice(delta=Delta(role="assistant", content=""))])

    def content(self, text: str) -> str:
        return self.chunk([ChunkChoice(delta=Delta(content=text))])

    def done(self, last: Chunk) -> str:
        finish = last.finish_reason or "stop"
        events = self.chunk([ChunkChoice(delta=Delta(), finish_reason=finish)])
        if self.include_usage:
            events += self.chunk([], CompletionUsage.of(last.usage))
        return events + DONE

    def failed(self, exc: Exception) -> str:
        # The status is sent: the error goes in-band, where OpenAI's clients look for it.
        error = _as_api_error(self.call, exc)
        body = {"error": {"code": error.code, "message": error.message}}
        return _data(json.dumps(body, ensure_ascii=False))


def _events(relay: _ChunkRelay, started: ProviderStream) -> Iterator[str]:
    try:
        yield relay.first()
        yield from started.relay(relay)
    finally:
        started.close()
