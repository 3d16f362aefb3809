"""The provider interface: message and reply dataclasses, the Provider protocol, typed errors."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class ToolCall:
    """A function the model asks the caller to run; arguments is a JSON text, as OpenAI's."""

    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class Message:
    """One turn of a conversation; role is "system", "user", "assistant" or "tool".

    An assistant message may carry the tool calls it made; a "tool" message answers the call
    named by tool_call_id.
    """

    role: str
    content: str
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None


@dataclass(frozen=True)
class ChatOptions:
    """Sampling options; None means "the provider's default" and is not sent."""

    temperature: float | None = None
    max_tokens: int | None = None
    top_p: float | None = None
    stop: tuple[str, ...] = ()  # sequences that end the reply
    # OpenAI's shapes, passed on as given to the providers that speak them.
    tools: tuple[dict[str, Any], ...] = ()
    tool_choice: str | dict[str, Any] | None = None
    response_format: dict[str, Any] | None = None


@dataclass(frozen=True)
class Usage:
    """Token counts as the provider reports them; None when it doesn't."""

    prompt_tokens: int | None = None
    completion_tokens: int | None = None


@dataclass(frozen=True)
class Reply:
    """A whole (non-streamed) answer."""

    content: str
    model: str
    usage: Usage
    finish_reason: str | None  # "stop" | "length" | None (other upstream reasons pass through)
    tool_calls: tuple[ToolCall, ...] = ()


@dataclass(frozen=True)
class Chunk:
    """A piece of a streamed answer.

    A stream is zero or more content chunks, then exactly one chunk with done=True that
    carries the usage and the finish_reason.
    """

    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()  # each call whole, never a fragment
    done: bool = False
    usage: Usage | None = None
    finish_reason: str | None = None


@dataclass(frozen=True)
class ModelInfo:
    """A model the provider offers; details holds whatever else the provider says about it."""

    name: str
    details: dict[str, Any] = field(default_factory=dict)


@runtime_checkable
class Provider(Protocol):
    """What every LLM backend offers the rest of the app."""

    name: str

    def chat(self, messages: Sequence[Message], model: str, options: ChatOptions) -> Reply: ...

    def stream(
        self, messages: Sequence[Message], model: str, options: ChatOptions
    ) -> Iterator[Chunk]:
        """Yield chunks; closing the generator early closes the upstream response."""
        ...

    def models(self) -> list[ModelInfo]: ...

    def ping(self) -> dict[str, Any]:
        """Return a little about the provider (e.g. its version); raise ProviderError if down."""
        ...

    def unsupported(self, messages: Sequence[Message], options: ChatOptions) -> str | None:
        """The request field this provider can't honour (e.g. "tools"), or None."""
        ...


class ProviderError(Exception):
    """Base of every provider failure; str() is a message fit to show a user."""

    retry_after: str | None = None  # the provider's own Retry-After, passed on to our client

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ProviderUnavailable(ProviderError):
    """The provider can't be reached (connection refused, DNS failure, bad URL)."""


class ProviderTimeout(ProviderError):
    """The provider didn't connect or answer within the configured timeouts."""


class ModelNotFound(ProviderError):
    """The provider doesn't know the requested model."""

    def __init__(self, model: str, message: str | None = None) -> None:
        super().__init__(message or f"Model '{model}' not found")
        self.model = model


class ProviderResponseError(ProviderError):
    """The provider answered with an error status, an in-band error frame or garbage.

    status is the upstream HTTP status, or None for errors that arrive inside a 200 stream.
    """

    def __init__(
        self, message: str, status: int | None = None, retry_after: str | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after


class MalformedResponse(ProviderResponseError):
    """A body or stream line that isn't the documented JSON shape."""
