"""A Qt-free client for the chatapp HTTP API, on `requests`, with SSE streaming."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import requests

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0
# The server pings every 15 s while the provider thinks; anything longer means it is gone.
STREAM_READ_TIMEOUT = 60.0


class ApiClientError(Exception):
    """An error from the server's envelope, or a transport failure (then `status` is None)."""

    def __init__(
        self,
        code: str,
        message: str,
        status: int | None = None,
        retry_after: float | None = None,
        details: list[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.retry_after = retry_after
        self.details = details or []


@dataclass(frozen=True)
class RateLimit:
    """The `X-RateLimit-*` headers of the latest authenticated response."""

    limit: int
    remaining: int
    reset: float | None


@dataclass(frozen=True)
class StreamStart:
    chat_id: str
    model: str


@dataclass(frozen=True)
class StreamDelta:
    content: str


@dataclass(frozen=True)
class StreamDone:
    chat_id: str
    finish_reason: str | None
    usage: dict[str, int] = field(default_factory=dict)


StreamEvent = StreamStart | StreamDelta | StreamDone


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content: bytes


def _seg(value: str) -> str:
    """One URL path segment: a prompt may be addressed by its name, spaces and all."""
    return quote(value, safe="")


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def _error_from_response(response: requests.Response) -> ApiClientError:
    try:
        error = response.json()["error"]
        code, message = str(error["code"]), str(error["message"])
        details = error.get("details") or []
    except (ValueError, KeyError, TypeError):
        code, message, details = "http_error", f"HTTP {response.status_code}", []
    return ApiClientError(code, message, response.status_code, _retry_after(response), details)


def _error_from_transport(exc: requests.RequestException, base_url: str) -> ApiClientError:
    if isinstance(exc, requests.Timeout):
        return ApiClientError("timeout", f"The server at {base_url} did not answer in time")
    if isinstance(exc, requests.ConnectionError):
        return ApiClientError("connection_error", f"Cannot reach the server at {base_url}")
    return ApiClientError("transport_error", str(exc))


class ChatStream:
    """An iterable of `StreamEvent`s for one streamed reply; `cancel()` works from any thread."""

    def __init__(self, response: requests.Response, base_url: str) -> None:
        self._response = response
        self._base_url = base_url
        self._cancelled = threading.Event()

    @property
    def cancelled(self) -> bool:
        return self._cancelled.is_set()

    def cancel(self) -> None:
        """Drop the connection, so the server stores the partial reply as cancelled."""
        self._cancelled.set()
        connection = getattr(self._response.raw, "_connection", None)
        sock = getattr(connection, "sock", None)
        if sock is not None:
            # A blocked recv() in the reading thread only wakes up on shutdown, not on close.
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def close(self) -> None:
        self._response.close()

    def __enter__(self) -> ChatStream:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __iter__(self) -> Iterator[StreamEvent]:
        try:
            for event, data in self._sse_events():
                parsed = self._parse(event, data)
                if parsed is not None:
                    yield parsed
                    if isinstance(parsed, StreamDone):
                        return
        except requests.RequestException as exc:
            if not self.cancelled:
                raise _error_from_transport(exc, self._base_url) from exc
        finally:
            self.close()
        if not self.cancelled:
            raise ApiClientError("stream_interrupted", "The reply stream ended unexpectedly")

    def _parse(self, event: str, data: str) -> StreamEvent | None:
        try:
            payload = json.loads(data) if data else {}
        except ValueError as exc:
            raise ApiClientError("bad_stream", "The server sent an unreadable event") from exc
        if event == "start":
            return StreamStart(str(payload.get("chat_id", "")), str(payload.get("model", "")))
        if event == "delta":
            return StreamDelta(str(payload.get("content", "")))
        if event == "done":
            usage = {k: int(v) for k, v in (payload.get("usage") or {}).items() if v is not None}
            return StreamDone(str(payload.get("chat_id", "")), payload.get("finish_reason"), usage)
        if event == "error":
            error = payload.get("error") or {}
            raise ApiClientError(
                str(error.get("code", "stream_error")),
                str(error.get("message", "The reply failed")),
                details=error.get("details"),
            )
        return None

    def _sse_events(self) -> Iterator[tuple[str, str]]:
        event, data = "message", []
        for line in self._lines():
            if not line:
                if data:
                    yield event, "\n".join(data)
                event, data = "message", []
            elif line.startswith(":"):
                continue  # a keep-alive ping
            else:
                name, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                if name == "event":
                    event = value
                elif name == "data":
                    data.append(value)

    def _lines(self) -> Iterator[str]:
        # read1() returns what has arrived, so a short event is never held back waiting
        # for a full buffer, whether the body is chunked or delimited by the connection close.
        buffer = b""
        while not self.cancelled:
            chunk = self._response.raw.read1(8192)
            if not chunk:
                return
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            for line in lines:
                yield line.rstrip(b"\r").decode("utf-8")


class ApiClient:
    """The chatapp REST API. Every method blocks, so call it off the GUI thread."""

    def __init__(self, base_url: str, api_key: str) -> None:
        self.base_url = base_url.rstrip("/")
        self.rate_limit: RateLimit | None = None
        self._session = requests.Session()
        self._session.headers.update(
            {"Authorization": f"Bearer {api_key}", "Accept": "application/json"}
        )

    def close(self) -> None:
        self._session.close()

    def _request(
        self, method: str, path: str, *, stream: bool = False, **kwargs: Any
    ) -> requests.Response:
        timeout = (CONNECT_TIMEOUT, STREAM_READ_TIMEOUT if stream else READ_TIMEOUT)
        try:
            response = self._session.request(
                method, self.base_url + path, timeout=timeout, stream=stream, **kwargs
            )
        except requests.RequestException as exc:
            raise _error_from_transport(exc, self.base_url) from exc
        self._record_rate_limit(response)
        if response.status_code >= 400:
            error = _error_from_response(response)
            response.close()
            raise error
        return response

    def _json(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self._request(method, path, **kwargs)
        try:
            return dict(response.json())
        except ValueError as exc:
            raise ApiClientError("bad_response", "The server sent an unreadable answer") from exc

    def _record_rate_limit(self, response: requests.Response) -> None:
        headers = response.headers
        if "X-RateLimit-Remaining" not in headers:
            return
        try:
            reset = headers.get("X-RateLimit-Reset")
            self.rate_limit = RateLimit(
                int(headers.get("X-RateLimit-Limit", 0)),
                int(headers["X-RateLimit-Remaining"]),
                float(reset) if reset else None,
            )
        except ValueError:
            return

    # Account and server
    def health(self) -> dict[str, Any]:
        return self._json("GET", "/health")

    def me(self) -> dict[str, Any]:
        return self._json("GET", "/me")

    def models(self) -> dict[str, Any]:
        return self._json("GET", "/models")

    # Chats
    def list_chats(self, q: str = "", limit: int = 200, offset: int = 0) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"limit": limit, "offset": offset}
        if q:
            params["q"] = q
        chats = self._json("GET", "/chat/history", params=params).get("chats") or {}
        return [{**chat, "id": chat.get("id", chat_id)} for chat_id, chat in chats.items()]

    def get_chat(self, chat_id: str) -> dict[str, Any]:
        return dict(self._json("GET", f"/chat/history/{_seg(chat_id)}")["history"])

    def rename_chat(self, chat_id: str, title: str) -> dict[str, Any]:
        return self._json("PATCH", f"/chat/history/{_seg(chat_id)}", json={"title": title})

    def delete_chat(self, chat_id: str) -> None:
        self._json("DELETE", f"/chat/delete/{_seg(chat_id)}")

    def export_chat(self, chat_id: str, fmt: str) -> ExportFile:
        response = self._request(
            "GET", f"/chat/history/{_seg(chat_id)}/export", params={"format": fmt}
        )
        disposition = response.headers.get("Content-Disposition", "")
        _, _, name = disposition.partition("filename=")
        default = f"{chat_id}.{'md' if fmt == 'markdown' else 'json'}"
        return ExportFile(name.strip('"; ') or default, response.content)

    def chat(self, message: str, **options: Any) -> dict[str, Any]:
        body = {"message": message, **{k: v for k, v in options.items() if v is not None}}
        return self._json("POST", "/chat", json=body)

    def stream_chat(
        self,
        message: str,
        chat_id: str | None = None,
        model: str | None = None,
        system_prompt_id: str | None = None,
        temperature: float | None = None,
    ) -> ChatStream:
        """Open a streamed reply. Iterate the result for events; errors raise ApiClientError."""
        options = {
            "chat_id": chat_id,
            "model": model,
            "system_prompt_id": system_prompt_id,
            "temperature": temperature,
        }
        body = {"message": message, "stream": True}
        body.update({k: v for k, v in options.items() if v is not None})
        response = self._request(
            "POST", "/chat", json=body, stream=True, headers={"Accept": "text/event-stream"}
        )
        return ChatStream(response, self.base_url)

    # System prompts
    def active_prompt(self) -> dict[str, Any]:
        return self._json("GET", "/system-prompt")

    def set_active_prompt_content(self, content: str) -> dict[str, Any]:
        return self._json("POST", "/system-prompt", json={"prompt": content})

    def get_prompt(self, prompt_id: str) -> dict[str, Any]:
        return self._json("GET", f"/system-prompts/{_seg(prompt_id)}")

    def list_prompts(self) -> list[dict[str, Any]]:
        prompts = self._json("GET", "/system-prompts").get("prompts") or {}
        return [{**prompt, "id": prompt.get("id", pid)} for pid, prompt in prompts.items()]

    def create_prompt(self, name: str, content: str, description: str = "") -> dict[str, Any]:
        body = {"name": name, "content": content, "description": description}
        return self._json("POST", "/system-prompts", json=body)

    def update_prompt(self, prompt_id: str, **fields: str) -> dict[str, Any]:
        return self._json("PUT", f"/system-prompts/{_seg(prompt_id)}", json=fields)

    def delete_prompt(self, prompt_id: str) -> None:
        self._json("DELETE", f"/system-prompts/{_seg(prompt_id)}")

    def activate_prompt(self, prompt_id: str) -> dict[str, Any]:
        return self._json("POST", f"/system-prompts/{_seg(prompt_id)}/activate")

    # Keys and users
    def list_keys(self) -> list[dict[str, Any]]:
        return list(self._json("GET", "/me/keys").get("keys") or [])

    def create_key(self, name: str) -> dict[str, Any]:
        return self._json("POST", "/me/keys", json={"name": name})

    def revoke_key(self, prefix: str) -> None:
        self._json("DELETE", f"/me/keys/{_seg(prefix)}")

    def list_users(self) -> list[dict[str, Any]]:
        return list(self._json("GET", "/users").get("users") or [])

    def create_user(self, username: str, **fields: Any) -> dict[str, Any]:
        return self._json("POST", "/users", json={"username": username, **fields})

    def update_user(self, username: str, **fields: Any) -> dict[str, Any]:
        return self._json("PATCH", f"/users/{_seg(username)}", json=fields)

    def delete_user(self, username: str) -> None:
        self._json("DELETE", f"/users/{_seg(username)}")
