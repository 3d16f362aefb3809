"""A provider's stream relayed as Server-Sent Events text, with pings while the model is silent."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from contextlib import closing
from typing import Protocol

from chatapp.providers import Chunk, ProviderResponseError

PING = ": ping\n\n"
_END = object()  # the provider's stream ran out
_SILENT = object()  # nothing arrived within the ping interval


class Relay(Protocol):
    """What a response makes of each part of the provider's stream (SSE text to send)."""

    def content(self, text: str) -> str: ...

    def done(self, last: Chunk) -> str: ...

    def failed(self, exc: Exception) -> str: ...


class _Pump:
    """Reads the provider's stream on its own thread, so pings can flow while it is silent.

    stop() makes the thread close the provider's stream (and with it the upstream connection)
    as soon as its current read returns.
    """

    def __init__(self, chunks: Iterator[Chunk]) -> None:
        self._chunks = chunks
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._stopped = threading.Event()
        threading.Thread(target=self._run, name="llm-stream", daemon=True).start()

    def _run(self) -> None:
        try:
            with closing(self._chunks):  # type: ignore[type-var]  # streams are generators
                for chunk in self._chunks:
                    self._queue.put(chunk)
                    if self._stopped.is_set():
                        return
        except Exception as exc:  # handed to the request thread, which reports it
            self._queue.put(exc)
        else:
            self._queue.put(_END)

    def next(self, timeout: float) -> object:
        """The next chunk, an exception, _END, or _SILENT after `timeout` seconds."""
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return _SILENT

    def stop(self) -> None:
        self._stopped.set()


class ProviderStream:
    """A provider's stream that has started; relay() turns it into SSE text, close() ends it."""

    def __init__(self, pump: _Pump, first: object, ping_seconds: float) -> None:
        self._pump = pump
        self._first = first
        self._ping_seconds = ping_seconds

    def relay(self, relay: Relay) -> Iterator[str]:
        """Pings while the provider is silent, and `relay`'s text up to the end or a failure.

        It doesn't close the stream: the caller does, in `finally`, so that a response closed
        before it reached this generator still lets go of the provider.
        """
        item = self._first
        while True:
            if item is _SILENT:
                yield PING
            elif isinstance(item, Chunk):
                if item.content:
                    yield relay.content(item.content)
                if item.done:
                    yield relay.done(item)
                    return
            else:
                yield relay.failed(_failure(item))
                return
            item = self._pump.next(self._ping_seconds)

    def close(self) -> None:
        self._pump.stop()


def open_provider_stream(chunks: Iterator[Chunk], ping_seconds: float) -> ProviderStream:
    """Start reading `chunks` and wait for the first one, at most one ping interval.

    A failure that comes before the provider's first chunk (unknown model, provider down) is
    raised here, so the response can still get a proper status instead of a 200 stream.
    """
    pump = _Pump(chunks)
    first = pump.next(ping_seconds)
    if isinstance(first, Exception):
        raise first
    return ProviderStream(pump, first, ping_seconds)


def _failure(item: object) -> Exception:
    if isinstance(item, Exception):
        return item
    return ProviderResponseError("The provider's stream ended unfinished")
