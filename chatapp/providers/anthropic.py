"""Anthropic adapter: /v1/messages (SSE streaming) and /v1/models."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from chatapp.providers.base import (
    ChatOptions,
    Chunk,
    Message,
    ModelInfo,
    ProviderResponseError,
    Reply,
    Usage,
)
from chatapp.providers.http import HttpProvider, Timeouts
from chatapp.providers.wire import (
    dig,
    model_list,
    parse_json,
    sampling_options,
    sse_events,
    tool_options,
)

DEFAULT_BASE_URL = "https://api.anthropic.com"
API_VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 4096  # the API requires max_tokens; this is ample for a chat turn
_FINISH = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length"}
_MODELS_PAGE = 1000  # the largest page /v1/models allows
# max_tokens is left to _body, which always sends it since the API requires it.
_SAMPLING = {"max_tokens": None, "stop": "stop_sequences"}


def _model_missing(status: int | None, payload: Any, message: str) -> bool:
    kind = dig(payload, "error", "type", default=None)
    return (status == 404 or kind == "not_found_error") and "model" in message.lower()


def _error_frame(payload: Any) -> bool:
    return isinstance(payload, Mapping) and payload.get("type") == "error"


class AnthropicProvider(HttpProvider):
    """Talks to the Anthropic Messages API."""

    def __init__(
        self,
        base_url: str | None = DEFAULT_BASE_URL,
        api_key: str | None = None,
        *,
        timeouts: Timeouts,
        name: str = "anthropic",
    ) -> None:
        key = {"x-api-key": api_key} if api_key else {}
        super().__init__(
            name,
            base_url or DEFAULT_BASE_URL,
            timeouts=timeouts,
            model_missing=_model_missing,
            error_frame=_error_frame,
            headers={"anthropic-version": API_VERSION, **key},
        )

    def chat(self, messages: Sequence[Message], model: str, options: ChatOptions) -> Reply:
        payload = self._http.post_json("/v1/messages", _body(messages, model, options, False))
        self._raise_in_band(payload, model)
        blocks = dig(payload, "content", kind=list)
        usage = dig(payload, "usage", kind=Mapping, default={})
        return Reply(
            content="".join(b["text"] for b in blocks if _is_text(b)),
            model=dig(payload, "model", kind=str, default=model),
            usage=Usage(_prompt_tokens(usage), dig(usage, "output_tokens", kind=int, default=None)),
            finish_reason=_finish(dig(payload, "stop_reason", kind=str, default=None)),
        )

    def stream(
        self, messages: Sequence[Message], model: str, options: ChatOptions
    ) -> Iterator[Chunk]:
        body = _body(messages, model, options, True)
        state = _StreamState()
        with self._http.stream_lines("/v1/messages", body) as lines:
            for event, data in sse_events(lines):
                frame = parse_json(data, self.name)
                # Anthropic names the event twice (SSE event and "type"); trust either.
                kind = dig(frame, "type", kind=str, default=event)
                if kind == "error":
                    raise self._http.error(frame, model=model)
                if kind == "message_stop":
                    yield state.final()
                    return
                text = state.update(kind, frame)
                if text:
                    yield Chunk(content=text)
        raise ProviderResponseError(f"{self.name} ended the stream before it was done")

    def models(self) -> list[ModelInfo]:
        found: list[ModelInfo] = []
        params: dict[str, Any] = {"limit": _MODELS_PAGE}
        while True:
            payload = self._http.get_json("/v1/models", params=params)
            self._raise_in_band(payload, None)
            found += model_list(dig(payload, "data", kind=list), "id")
            last = dig(payload, "last_id", kind=str, default=None)
            if not dig(payload, "has_more", kind=bool, default=False) or not last:
                return found
            params = {"limit": _MODELS_PAGE, "after_id": last}

    def ping(self) -> dict[str, Any]:
        # There is no version endpoint; listing models also proves the key works.
        return {"models": len(self.models())}

    def unsupported(self, messages: Sequence[Message], options: ChatOptions) -> str | None:
        # Anthropic has tools of its own shape; this adapter doesn't translate them (yet).
        fields = tool_options(options)
        if fields:
            return next(iter(fields))
        if any(m.tool_calls or m.tool_call_id is not None for m in messages):
            return "messages"
        return None


class _StreamState:
    """What the stream has told so far about usage and the stop reason."""

    def __init__(self) -> None:
        self.prompt_tokens: int | None = None
        self.completion_tokens: int | None = None
        self.stop_reason: str | None = None

    def update(self, kind: str, frame: Any) -> str:
        """Take one event in; return its text, if it carries any."""
        if kind == "message_start":
            usage = dig(frame, "message", "usage", kind=Mapping, default={})
            self.prompt_tokens = _prompt_tokens(usage)
            self.completion_tokens = dig(usage, "output_tokens", kind=int, default=None)
        elif kind == "content_block_delta":
            if dig(frame, "delta", "type", default=None) == "text_delta":
                return dig(frame, "delta", "text", kind=str, default="")
        elif kind == "message_delta":
            self.stop_reason = dig(frame, "delta", "stop_reason", kind=str, default=None)
            usage = dig(frame, "usage", kind=Mapping, default={})
            self.prompt_tokens = _prompt_tokens(usage) or self.prompt_tokens
            self.completion_tokens = dig(
                usage, "output_tokens", kind=int, default=self.completion_tokens
            )
        # ping, content_block_start/stop and event types added later carry no text.
        return ""

    def final(self) -> Chunk:
        usage = Usage(self.prompt_tokens, self.completion_tokens)
        return Chunk(done=True, usage=usage, finish_reason=_finish(self.stop_reason))


def _body(
    messages: Sequence[Message], model: str, options: ChatOptions, stream: bool
) -> dict[str, Any]:
    # The Messages API takes the system prompt as a top-level field, not as a message.
    system = "\n\n".join(m.content for m in messages if m.role == "system")
    body: dict[str, Any] = {
        "model": model,
        "messages": [
            {"role": m.role, "content": m.content} for m in messages if m.role != "system"
        ],
        "max_tokens": options.max_tokens or DEFAULT_MAX_TOKENS,
        "stream": stream,
    }
    if system:
        body["system"] = system
    body.update(sampling_options(options, _SAMPLING))
    if "temperature" in body:
        # Anthropic's range is 0..1 where OpenAI's (and our API's) is 0..2; clamp, don't fail.
        body["temperature"] = min(max(body["temperature"], 0.0), 1.0)
    return body


def _is_text(block: Any) -> bool:
    return (
        isinstance(block, Mapping)
        and block.get("type") == "text"
        and isinstance(block.get("text"), str)
    )


def _prompt_tokens(usage: Mapping[str, Any]) -> int | None:
    # With prompt caching, the prompt is split over three counters.
    keys = ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
    counts = [dig(usage, key, kind=int, default=None) for key in keys]
    present = [c for c in counts if c is not None]
    return sum(present) if present else None


def _finish(reason: str | None) -> str | None:
    return _FINISH.get(reason, reason) if reason else None
