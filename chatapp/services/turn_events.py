"""What a turn yields as it goes: Started, then Delta and Ping, then Done or Failed.

The chat and the OpenAI gateway yield the same events; the API layer alone turns them into
a wire format (chat SSE in api/streaming.py, `chat.completion.chunk`s in api/openai_compat.py).
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass

from chatapp.providers import ToolCall, Usage


@dataclass(frozen=True)
class Started:
    model: str
    chat_id: str | None = None  # None on the gateway, which stores no chat
    user_message_id: int | None = None  # the chat's user message the reply answers


@dataclass(frozen=True)
class Delta:
    content: str
    tool_calls: tuple[ToolCall, ...] = ()  # only the gateway asks for tools


@dataclass(frozen=True)
class Ping:
    """Nothing arrived for a ping interval: a sign of life for the client and any proxy."""


@dataclass(frozen=True)
class Done:
    usage: Usage
    finish_reason: str | None
    chat_id: str | None = None  # set once the turn is stored in that chat
    model: str | None = None  # the model that answered, when a fallback may have taken over
    message_id: int | None = None  # the stored reply's id, on a chat


@dataclass(frozen=True)
class Failed:
    """The turn broke after its status was sent; chatapp.errors says what the client sees."""

    error: Exception


TurnEvent = Started | Delta | Ping | Done | Failed
# A turn's events as its services hand them out: close() it to end the turn early (the
# client left), which is what stores a partial chat reply as cancelled.
TurnEvents = Generator[TurnEvent, None, None]
