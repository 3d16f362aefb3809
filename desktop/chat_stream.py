"""A streamed reply: the server's Server-Sent Events read as typed events, cancellable."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator

import requests

from desktop.api_types import ApiClientError, StreamDone, StreamEvent, stream_event


def transport_error(exc: requests.RequestException, base_url: str) -> ApiClientError:
    """A failure with no HTTP answer to read, in the words the banner shows."""
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
                raise transport_error(exc, self._base_url) from exc
        finally:
            self.close()
        if not self.cancelled:
            raise ApiClientError("stream_interrupted", "The reply stream ended unexpectedly")

    def _parse(self, event: str, data: str) -> StreamEvent | None:
        try:
            payload = json.loads(data) if data else {}
        except ValueError as exc:
            raise ApiClientError("bad_stream", "The server sent an unreadable event") from exc
        return stream_event(event, payload)

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
