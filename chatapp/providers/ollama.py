"""Ollama adapter: /api/chat (NDJSON streaming), /api/tags and /api/version."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

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
    tool_calls,
)

DEFAULT_HOST = "http://127.0.0.1:11434"
_DEFAULT_PORT = 11434
_FINISH = {"stop": "stop", "length": "length"}
_SAMPLING = {"max_tokens": "num_predict"}  # Ollama's names where they differ from ours
# Ollama always lets the model choose whether to call a tool: it can honour these choices only.
_TOOL_CHOICES = (None, "auto", "none")


def normalize_host(host: str | None) -> str:
    """OLLAMA_HOST read as Ollama's own tools read it.

    "host", "host:port" and ":port" mean plain http with 11434 as the default port; with an
    explicit scheme the default port is that scheme's (80 or 443), as in Ollama's envconfig.
    """
    host = (host or "").strip()
    if not host:
        return DEFAULT_HOST
    scheme, sep, _ = host.partition("://")
    default_port = {"http": 80, "https": 443}.get(scheme, 80) if sep else _DEFAULT_PORT
    parts = urlsplit(host if sep else "http://" + host)
    hostname = parts.hostname or "127.0.0.1"
    if ":" in hostname:  # IPv6 literals need their brackets back
        hostname = f"[{hostname}]"
    port = parts.port or default_port
    return f"{parts.scheme}://{hostname}:{port}{parts.path.rstrip('/')}"


def _model_missing(status: int | None, payload: Any, message: str) -> bool:
    # Ollama answers 404 {"error": "model 'x' not found"}; a bare 404 page is a wrong URL.
    return status == 404 and "model" in message.lower()


def _error_frame(payload: Any) -> bool:
    # Ollama keeps status 200 for errors that happen after streaming began.
    return isinstance(payload, Mapping) and "error" in payload


class OllamaProvider(HttpProvider):
    """Talks to an Ollama server."""

    def __init__(
        self, host: str | None = DEFAULT_HOST, *, timeouts: Timeouts, name: str = "ollama"
    ) -> None:
        super().__init__(
            name,
            normalize_host(host),
            timeouts=timeouts,
            model_missing=_model_missing,
            error_frame=_error_frame,
        )

    @property
    def host(self) -> str:
        """The server's URL, OLLAMA_HOST normalized."""
        return self.base_url

    def chat(self, messages: Sequence[Message], model: str, options: ChatOptions) -> Reply:
        payload = self._http.post_json("/api/chat", _body(messages, model, options, False))
        self._raise_in_band(payload, model)
        calls = _tool_calls(payload)
        return Reply(
            content=dig(payload, "message", "content", kind=str, default=""),
            model=dig(payload, "model", kind=str, default=model),
            usage=_usage(payload),
            finish_reason=_finish(payload, bool(calls)),
            tool_calls=calls,
        )

    def stream(
        self, messages: Sequence[Message], model: str, options: ChatOptions
    ) -> Iterator[Chunk]:
        body = _body(messages, model, options, True)
        called = False  # a reply that called tools finishes with "tool_calls", as OpenAI's do
        with self._http.stream_lines("/api/chat", body) as lines:
            for line in lines:
                if not line.strip():
                    continue
                frame = parse_json(line, self.name)
                self._raise_in_band(frame, model)
                content = dig(frame, "message", "content", kind=str, default="")
                calls = _tool_calls(frame)
                called = called or bool(calls)
                if content or calls:
                    yield Chunk(content=content, tool_calls=calls)
                if dig(frame, "done", kind=bool, default=False):
                    finish = _finish(frame, called)
                    yield Chunk(done=True, usage=_usage(frame), finish_reason=finish)
                    return
        raise ProviderResponseError(f"{self.name} ended the stream before it was done")

    def models(self) -> list[ModelInfo]:
        payload = self._http.get_json("/api/tags")
        return model_list(dig(payload, "models", kind=list), "name")

    def ping(self) -> dict[str, Any]:
        payload = self._http.get_json("/api/version")
        return {"version": dig(payload, "version", kind=str, default=None)}

    def unsupported(self, messages: Sequence[Message], options: ChatOptions) -> str | None:
        return None if options.tool_choice in _TOOL_CHOICES else "tool_choice"


def _body(
    messages: Sequence[Message], model: str, options: ChatOptions, stream: bool
) -> dict[str, Any]:
    body: dict[str, Any] = {"model": model, "messages": _messages(messages), "stream": stream}
    sampling = sampling_options(options, _SAMPLING)
    if sampling:  # Ollama takes them as one "options" object
        body["options"] = sampling
    if options.tools and options.tool_choice != "none":
        body["tools"] = list(options.tools)
    output_format = _format(options.response_format)
    if output_format is not None:
        body["format"] = output_format
    return body


def _messages(messages: Sequence[Message]) -> list[dict[str, Any]]:
    """OpenAI's message shapes, with Ollama's differences: arguments as objects, tool_name."""
    names = {call.id: call.name for m in messages for call in m.tool_calls}
    out = []
    for message in messages:
        entry = openai_message(message)
        if message.tool_calls:
            entry["tool_calls"] = [_ollama_call(call) for call in message.tool_calls]
        if message.tool_call_id is not None:
            entry.pop("tool_call_id")
            entry["tool_name"] = names.get(message.tool_call_id, message.tool_call_id)
        out.append(entry)
    return out


def _ollama_call(call: ToolCall) -> dict[str, Any]:
    try:
        arguments = json.loads(call.arguments or "{}")
    except ValueError:
        arguments = call.arguments  # not JSON: pass it as the caller wrote it
    return {"function": {"name": call.name, "arguments": arguments}}


def _format(response_format: Mapping[str, Any] | None) -> Any:
    """OpenAI's response_format as Ollama's format: "json", a JSON schema, or None (text)."""
    kind = (response_format or {}).get("type")
    if kind == "json_object":
        return "json"
    if kind == "json_schema":
        return dig(response_format, "json_schema", "schema", kind=Mapping)
    return None


def _tool_calls(payload: Any) -> tuple[ToolCall, ...]:
    entries = dig(payload, "message", "tool_calls", default=None)
    return tool_calls(entries, f"call_{secrets.token_hex(6)}_") if entries else ()


def _usage(payload: Any) -> Usage:
    # The metric fields are optional in Ollama's format (e.g. absent on a cached prompt).
    return Usage(
        prompt_tokens=dig(payload, "prompt_eval_count", kind=int, default=None),
        completion_tokens=dig(payload, "eval_count", kind=int, default=None),
    )


def _finish(payload: Any, called_tools: bool) -> str | None:
    reason = dig(payload, "done_reason", kind=str, default=None)
    if called_tools and reason in (None, "stop"):
        return "tool_calls"
    return _FINISH.get(reason, reason) if reason else None
