"""Helpers for reading and writing the wire formats: JSON shapes, SSE, errors, options."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from chatapp.providers.base import ChatOptions, MalformedResponse, Message, ModelInfo, ToolCall

_MISSING: Any = object()


def error_message(payload: Any) -> str | None:
    """The human message in an error body: {"error": "..."} or {"error": {"message": ...}}."""
    if not isinstance(payload, Mapping):
        return None
    error = payload.get("error")
    if isinstance(error, Mapping):
        error = error.get("message") or error.get("type")
    if not error:
        error = payload.get("message") or payload.get("detail")
    return str(error) if error else None


def parse_json(text: str, provider: str) -> Any:
    """Decode one stream line or SSE data field, or raise MalformedResponse."""
    try:
        return json.loads(text)
    except ValueError as exc:
        raise MalformedResponse(f"{provider} sent a stream line that is not JSON") from exc


def dig(
    obj: Any, *path: str | int, kind: type | tuple[type, ...] = object, default: Any = _MISSING
) -> Any:
    """obj[path0][path1]..., checked against kind; MalformedResponse when it isn't there.

    With a default, a missing or null value gives the default instead.
    """
    for key in path:
        obj = _step(obj, key)
        if obj is _MISSING:
            if default is not _MISSING:
                return default
            raise MalformedResponse(f"unexpected response shape: no {key!r}")
    if obj is None and default is not _MISSING:
        return default
    if not isinstance(obj, kind):
        raise MalformedResponse(f"unexpected response shape: {path} is {type(obj).__name__}")
    return obj


def _step(obj: Any, key: str | int) -> Any:
    # Only objects have keys and only arrays have indexes: "text"[0] is not a JSON path.
    if isinstance(key, str) and isinstance(obj, Mapping):
        return obj.get(key, _MISSING)
    if isinstance(key, int) and isinstance(obj, list) and -len(obj) <= key < len(obj):
        return obj[key]
    return _MISSING


def sse_events(lines: Iterable[str]) -> Iterator[tuple[str, str]]:
    """Server-Sent Events as (event, data) pairs; event is "message" when unnamed."""
    event, data = "", []
    for line in lines:
        if not line:
            if data:
                yield event or "message", "\n".join(data)
            event, data = "", []
            continue
        field, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if field == "data":
            data.append(value)
        elif field == "event":
            event = value
    if data:  # be lenient with servers that close without the final blank line
        yield event or "message", "\n".join(data)


def sampling_options(
    options: ChatOptions, renames: Mapping[str, str | None] | None = None
) -> dict[str, Any]:
    """The sampling options that are set, under our names or the wire's (renames: ours -> theirs).

    An option renamed to None is left out, as are unset ones and an empty stop list.
    """
    ours = {
        "temperature": options.temperature,
        "max_tokens": options.max_tokens,
        "top_p": options.top_p,
        "stop": list(options.stop) or None,
    }
    names = {key: (renames or {}).get(key, key) for key in ours}
    return {names[k]: v for k, v in ours.items() if names[k] is not None and v is not None}


def model_list(entries: list[Any], key: str) -> list[ModelInfo]:
    """A models listing: each entry's name under key, everything else as its details."""
    return [
        ModelInfo(
            name=dig(entry, key, kind=str),
            details={k: v for k, v in entry.items() if k != key},
        )
        for entry in entries
    ]


def tool_options(options: ChatOptions) -> dict[str, Any]:
    """tools, tool_choice and response_format, as OpenAI names them, when they are set."""
    fields = {
        "tools": list(options.tools) or None,
        "tool_choice": options.tool_choice,
        "response_format": options.response_format,
    }
    return {name: value for name, value in fields.items() if value is not None}


def openai_message(message: Message) -> dict[str, Any]:
    """A message in OpenAI's chat format (which Ollama's /api/chat mostly shares)."""
    out: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        out["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in message.tool_calls
        ]
    if message.tool_call_id is not None:
        out["tool_call_id"] = message.tool_call_id
    return out


def tool_call(entry: Any, fallback_id: str) -> ToolCall:
    """One tool call from OpenAI's or Ollama's shape; Ollama's arguments are an object."""
    arguments = dig(entry, "function", "arguments", default="")
    if not isinstance(arguments, str):
        arguments = json.dumps(arguments, ensure_ascii=False)
    return ToolCall(
        id=dig(entry, "id", kind=str, default=fallback_id),
        name=dig(entry, "function", "name", kind=str),
        arguments=arguments,
    )


def tool_calls(entries: Any, id_prefix: str) -> tuple[ToolCall, ...]:
    """A message's tool calls; the ones without an id get `<id_prefix><index>`."""
    if not entries:
        return ()
    if not isinstance(entries, list):
        raise MalformedResponse("unexpected response shape: tool_calls is not a list")
    return tuple(tool_call(entry, f"{id_prefix}{i}") for i, entry in enumerate(entries))
