"""A provider's stream read on a thread of its own, so pings can flow while the model is silent."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from contextlib import closing

from chatapp.providers import Chunk, ProviderResponseError, Usage
from chatapp.services.turn_events import Delta, Done, Failed, Ping

FeedEvent = Delta | Ping | Done | Failed
_END = object()  # the provider's stream ran out
_SILENT = object()  # nothing arrived within the ping interval


class _Reader:
    """Reads the provider's chunks on its own thread and queues them, or the failure.

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
                    # Hand the GIL to the request thread now, which waits for this chunk: a
                    # reader with more of the answer already in its buffer would otherwise
                    # keep it for the interpreter's switch interval (5 ms) every time.
                    time.sleep(0)
                    # After the last chunk the stream runs out by itself, and its provider's
                    # connection goes back to the pool: only one stopped midway is dropped.
                    if self._stopped.is_set() and not chunk.done:
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


class ProviderFeed:
    """A provider's answer that has begun, as Delta and Ping events up to its Done or Failed.

    `ended` turns true as the last event is handed out. Iterating doesn't stop the reader:
    close() does, and the caller calls it in `finally`.
    """

    def __init__(self, reader: _Reader, first: object, ping_seconds: float) -> None:
        self._reader = reader
        self._first = first
        self._ping_seconds = ping_seconds
        self.ended = False

    def __iter__(self) -> Iterator[FeedEvent]:
        item = self._first
        while True:
            yield from self._events(item)
            if self.ended:
                return
            item = self._reader.next(self._ping_seconds)

    def _events(self, item: object) -> Iterator[FeedEvent]:
        if item is _SILENT:
            yield Ping()
        elif isinstance(item, Chunk):
            yield from self._chunk_events(item)
        else:
            self.ended = True
            yield Failed(_failure(item))

    def _chunk_events(self, chunk: Chunk) -> Iterator[FeedEvent]:
        if chunk.content or chunk.tool_calls:
            yield Delta(chunk.content, chunk.tool_calls)
        if chunk.done:
            self.ended = True
            yield Done(chunk.usage or Usage(), chunk.finish_reason)

    def close(self) -> None:
        self._reader.stop()


def read_provider(chunks: Iterator[Chunk], ping_seconds: float) -> ProviderFeed:
    """Start reading `chunks` and wait for the first one, at most one ping interval.

    A failure that comes before the provider's first chunk (unknown model, provider down) is
    raised here, so the response can still get a proper status instead of a 200 stream.
    """
    reader = _Reader(chunks)
    first = reader.next(ping_seconds)
    if isinstance(first, Exception):
        raise first
    return ProviderFeed(reader, first, ping_seconds)


def _failure(item: object) -> Exception:
    if isinstance(item, Exception):
        return item
    return ProviderResponseError("The provider's stream ended unfinished")
