"""OpenAI-compatible adapter: {base}/chat/completions (SSE streaming) and {base}/models."""

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
    ToolCall,
    Usage,
)
from chatapp.providers.http import HttpProvider, Timeouts
from chatapp.providers.wire import (
    dig,
    model_list,
    openai_message,
    parse_json,
    sampling_options,
    sse_events,
    tool_calls,
    tool_options,
)

DEFAULT_BASE_URL = "https://api.openai.com/v1"


def _model_missing(status: int | None, payload: Any, message: str) -> bool:
    # A 404 without "model" in it is more likely a wrong base URL than an unknown model.
    code = dig(payload, "error", "code", default=None)
    return code == "model_not_found" or (status == 404 and "model" in message.lower())


def _error_frame(payload: Any) -> bool:
    # Errors mid-stream arrive as an "error" object inside a 200 frame.
    return isinstance(payload, Mapping) and bool(payload.get("error"))


class OpenAIProvider(HttpProvider):
    """Talks to OpenAI or any server that speaks its chat completions API (vLLM, llama.cpp...)."""

    def __init__(
        self,
        base_url: str | None = DEFAULT_BASE_URL,
        api_key: str | None = None,
        *,
        timeouts: Timeouts,
        name: str = "openai",
    ) -> None:
        # Like the openai SDK, base_url includes the /v1; local servers often need no key.
        super().__init__(
            name,
            base_url or DEFAULT_BASE_URL,
            timeouts=timeouts,
            model_missing=_model_missing,
            error_frame=_error_frame,
            headers={"Authorization": f"Bearer {api_key}"} if api_key else {},
        )

    def chat(self, messages: Sequence[Message], model: str, options: ChatOptions) -> Reply:
        payload = self._http.post_json("/chat/completions", _body(messages, model, options, False))
        self._raise_in_band(payload, model)
        choice = dig(payload, "choices", 0, kind=Mapping)
        return Reply(
            content=dig(choice, "message", "content", kind=str, default=""),
            model=dig(payload, "model", kind=str, default=model),
            usage=_usage(payload) or Usage(),
            finish_reason=dig(choice, "finish_reason", kind=str, default=None),
            tool_calls=tool_calls(dig(choice, "message", "tool_calls", default=None), "call_"),
        )

    def stream(
        self, messages: Sequence[Message], model: str, options: ChatOptions
    ) -> Iterator[Chunk]:
        body = _body(messages, model, options, True)
        usage: Usage | None = None
        finish: str | None = None
        calls = _ToolCallParts()
        with self._http.stream_lines("/chat/completions", body) as lines:
            for _event, data in sse_events(lines):
                if data.strip() == "[DONE]":
                    yield _last_chunk(calls, usage, finish)
                    return
                frame = parse_json(data, self.name)
                self._raise_in_band(frame, model)
                usage = _usage(frame) or usage
                # The usage chunk has "choices": [] and some servers send null: both mean none.
                for choice in dig(frame, "choices", kind=list, default=[])[:1]:
                    finish = dig(choice, "finish_reason", kind=str, default=None) or finish
                    calls.add(dig(choice, "delta", "tool_calls", kind=list, default=[]))
                    content = dig(choice, "delta", "content", kind=str, default="")
                    if content:
                        yield Chunk(content=content)
        if finish is None:
            raise ProviderResponseError(f"{self.name} ended the stream before it was done")
        # Tolerate servers that finish a choice but never send [DONE].
        yield _last_chunk(calls, usage, finish)

    def models(self) -> list[ModelInfo]:
        payload = self._http.get_json("/models")
        self._raise_in_band(payload, None)
        return model_list(dig(payload, "data", kind=list), "id")

    def ping(self) -> dict[str, Any]:
        # OpenAI-compatible servers have no version endpoint; listing models proves the key too.
        return {"models": len(self.models())}

    def unsupported(self, messages: Sequence[Message], options: ChatOptions) -> str | None:
        return None  # the gateway's request fields are this wire format's own


class _ToolCallParts:
    """Tool calls as a stream sends them, in fragments keyed by index, put back together."""

    def __init__(self) -> None:
        self._parts: dict[int, dict[str, Any]] = {}

    def add(self, fragments: list[Any]) -> None:
        for fragment in fragments:
            index = dig(fragment, "index", kind=int, default=0)
            part = self._parts.setdefault(index, {"id": "", "name": "", "arguments": ""})
            part["id"] = part["id"] or dig(fragment, "id", kind=str, default="")
            part["name"] = part["name"] or dig(fragment, "function", "name", kind=str, default="")
            part["arguments"] += dig(fragment, "function", "arguments", kind=str, default="")

    def whole(self) -> tuple[ToolCall, ...]:
        return tuple(
            ToolCall(part["id"] or f"call_{index}", part["name"], part["arguments"])
            for index, part in sorted(self._parts.items())
        )


def _last_chunk(calls: _ToolCallParts, usage: Usage | None, finish: str | None) -> Chunk:
    """The done chunk; a stream's tool calls go out whole, with it."""
    return Chunk(tool_calls=calls.whole(), done=True, usage=usage or Usage(), finish_reason=finish)


def _body(
    messages: Sequence[Message], model: str, options: ChatOptions, stream: bool
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": model,
        "messages": [openai_message(m) for m in messages],
        "stream": stream,
    }
    if stream:
        body["stream_options"] = {"include_usage": True}
    body.update(sampling_options(options))  # our names are OpenAI's
    body.update(tool_options(options))
    return body


def _usage(payload: Any) -> Usage | None:
    usage = dig(payload, "usage", kind=Mapping, default=None)
    if usage is None:
        return None
    return Usage(
        prompt_tokens=dig(usage, "prompt_tokens", kind=int, default=None),
        completion_tokens=dig(usage, "completion_tokens", kind=int, default=None),
    )
