"""The provider's stream read on a thread: what a turn that ends or leaves does to it."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from chatapp.providers import Chunk, Usage
from chatapp.services import provider_feed
from chatapp.services.turn_events import Delta, Done

LAST = Chunk(done=True, usage=Usage(1, 2), finish_reason="stop")


class ReaderClock:
    """Stands in for the `time` module: once `hold_next` is set, the reader waits after
    queueing the next chunk until the test lets it go, as a reader the scheduler runs late
    (gevent's, say) would."""

    def __init__(self) -> None:
        self.hold_next = threading.Event()
        self.go_on = threading.Event()

    def sleep(self, seconds: float) -> None:
        if self.hold_next.is_set():
            assert self.go_on.wait(5), "the test never let the reader go on"


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> ReaderClock:
    clock = ReaderClock()
    monkeypatch.setattr(provider_feed, "time", clock)
    return clock


def test_a_stream_closed_after_its_last_chunk_still_runs_out(clock: ReaderClock) -> None:
    """The adapter's code after its last chunk is where its connection goes back to the pool."""
    ran_out = threading.Event()

    def chunks() -> Iterator[Chunk]:
        yield Chunk(content="Hi")
        clock.hold_next.set()
        yield LAST
        ran_out.set()

    feed = provider_feed.read_provider(chunks(), ping_seconds=5)
    events = list(feed)
    feed.close()  # the turn is stored and its response ended before the reader went on
    clock.go_on.set()
    assert [type(event) for event in events] == [Delta, Done]
    assert ran_out.wait(5)


def test_a_stream_closed_midway_stops_reading(clock: ReaderClock) -> None:
    """A client that leaves: the adapter is closed, which drops the provider's connection."""
    closed = threading.Event()

    def chunks() -> Iterator[Chunk]:
        try:
            yield Chunk(content="Hi")
            clock.hold_next.set()
            yield Chunk(content=" there")
            yield LAST
        except GeneratorExit:
            closed.set()
            raise

    feed = provider_feed.read_provider(chunks(), ping_seconds=5)
    events = iter(feed)
    assert isinstance(next(events), Delta)
    assert isinstance(next(events), Delta)
    feed.close()
    clock.go_on.set()
    assert closed.wait(5)
