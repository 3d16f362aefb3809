"""The OpenAI-compatible gateway: `POST /v1/chat/completions` and `GET /v1/models[/<id>]`."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from contextlib import closing
from typing import Any, assert_never

from flask import Blueprint

from chatapp import ratelimit
from chatapp.api.llm_models import providers_listed
from chatapp.api.streaming import PING, error_body, event_stream, json_or_event_stream
from chatapp.auth import current_user
from chatapp.extensions import statements_alone
from chatapp.models import User
from chatapp.openapi import api_spec, documented, sse_event
from chatapp.providers import Reply, ToolCall
from chatapp.schemas.chat import StreamError
from chatapp.schemas.openai_compat import (
    AssistantMessage,
    ChatCompletion,
    ChatCompletionChunk,
    ChatCompletionRequest,
    Choice,
    ChunkChoice,
    CompletionUsage,
    ModelList,
    ModelObject,
    ToolCallDelta,
    ToolCallOut,
)
from chatapp.schemas.openai_compat import Delta as DeltaOut
from chatapp.services import completions, llm
from chatapp.services.turn_events import Delta, Done, Failed, Ping, Started, TurnEvent, TurnEvents

bp = Blueprint("openai_compat", __name__, url_prefix="/v1")

DONE = "data: [DONE]\n\n"
# Unnamed events (a client sees them as "message"): chunks, an in-band error, then [DONE].
COMPLETION_EVENT_SCHEMAS = [
    sse_event("message", ChatCompletionChunk),
    sse_event("message", StreamError),
    sse_event("message", text="[DONE]"),
]


@bp.post("/chat/completions")
@statements_alone
@ratelimit.llm_calls  # outside validate: spectree reads the view's own annotations
@api_spec.validate(
    json=ChatCompletionRequest,
    resp=json_or_event_stream(ChatCompletion, COMPLETION_EVENT_SCHEMAS, 400, 422, 502, 504),
    tags=["openai"],
)
def chat_completions(json: ChatCompletionRequest) -> Any:
    if json.stream:
        user = current_user()
        return event_stream(ratelimit.limit_streams(user, lambda: streamed(user, json)))
    reply = completions.complete(current_user(), json.context(), json.model, json.options())
    return completion(reply).model_dump(mode="json")


def streamed(user: User, body: ChatCompletionRequest) -> Iterator[str]:
    """The answer as chunks; a failure before the provider's first chunk is raised here."""
    events = completions.stream(user, body.context(), body.model, body.options())
    return completion_chunks(events, body.include_usage)


@bp.get("/models")
@api_spec.validate(resp=documented(200, ModelList, 502, 503, 504), tags=["openai"])
def list_models() -> ModelList:
    listing = llm.list_models()
    return ModelList(
        data=[ModelObject.of(m.name, m.info, m.provider) for m in listing.models],
        providers=providers_listed(listing),
    )


@bp.get("/models/<path:model>")
@api_spec.validate(resp=documented(200, ModelObject, 404, 502, 503, 504), tags=["openai"])
def retrieve_model(model: str) -> ModelObject:
    found = llm.find_model(model)
    return ModelObject.of(found.name, found.info, found.provider)


def completion(reply: Reply) -> ChatCompletion:
    """The provider's whole answer, as a `chat.completion`."""
    calls = [ToolCallOut.of(call) for call in reply.tool_calls] or None
    message = AssistantMessage(content=reply.content or (None if calls else ""), tool_calls=calls)
    choice = Choice(message=message, finish_reason=reply.finish_reason or "stop")
    return ChatCompletion(
        id=completion_id(),
        created=int(time.time()),
        model=reply.model,
        choices=[choice],
        usage=CompletionUsage.of(reply.usage),
    )


def completion_id() -> str:
    return f"chatcmpl-{secrets.token_hex(12)}"


def completion_chunks(events: TurnEvents, include_usage: bool) -> Iterator[str]:
    """The events as `chat.completion.chunk` data lines, ending with `data: [DONE]`."""
    chunks = _ChunkWriter(include_usage)
    with closing(events):
        for event in events:
            yield chunks.render(event)


class _ChunkWriter:
    """One streamed completion's chunks: each carries its id, creation time and model."""

    def __init__(self, include_usage: bool) -> None:
        self.id = completion_id()
        self.created = int(time.time())
        self.model = ""  # known from the Started event, which always comes first
        self.include_usage = include_usage
        self.tool_calls = 0  # sent so far: each call's index in the stream

    def render(self, event: TurnEvent) -> str:
        match event:
            case Started(model=model):
                self.model = model
                return self.chunk([ChunkChoice(delta=DeltaOut(role="assistant", content=""))])
            case Delta(content=content, tool_calls=calls):
                return self.chunk([ChunkChoice(delta=self.delta(content, calls))])
            case Ping():
                return PING
            case Done():
                return self.done(event)
            case Failed(error=error):
                # The status is sent: the error goes in-band, where OpenAI's clients look for it.
                return _data(error_body(error).model_dump_json())
            case _:
                assert_never(event)

    def delta(self, content: str, calls: tuple[ToolCall, ...]) -> DeltaOut:
        if not calls:
            return DeltaOut(content=content)
        first, self.tool_calls = self.tool_calls, self.tool_calls + len(calls)
        deltas = [
            ToolCallDelta(index=index, **ToolCallOut.of(call).model_dump())
            for index, call in enumerate(calls, start=first)
        ]
        return DeltaOut(content=content or None, tool_calls=deltas)

    def done(self, event: Done) -> str:
        self.model = event.model or self.model  # a fallback may have answered after a ping
        finish = event.finish_reason or "stop"
        text = self.chunk([ChunkChoice(delta=DeltaOut(), finish_reason=finish)])
        if self.include_usage:
            text += self.chunk([], CompletionUsage.of(event.usage))
        return text + DONE

    def chunk(self, choices: list[ChunkChoice], usage: CompletionUsage | None = None) -> str:
        chunk = ChatCompletionChunk(
            id=self.id, created=self.created, model=self.model, choices=choices, usage=usage
        )
        return _data(chunk.model_dump_json())


def _data(payload: str) -> str:
    return f"data: {payload}\n\n"
