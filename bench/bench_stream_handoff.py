"""How long a streamed chunk waits between the provider's reader thread and the request thread.

A stream's provider is read on a thread of its own (`services.provider_feed`), so that pings
flow while the model is silent. A reader with more of the answer in its buffer keeps the GIL
while it parses, and the request thread, woken by the queue, then waits for the interpreter's
switch interval before it can send the chunk on. The reader hands the GIL over after each chunk;
this measures what a chunk waits, against that interval, in one run.
"""

from __future__ import annotations

import statistics
import sys
import time
from collections.abc import Iterator

from chatapp.providers import Chunk
from chatapp.services.provider_feed import read_provider

STREAMS = 200
CHUNKS = 50
PARSING_LOOPS = 20_000  # about the Python work of reading and decoding one provider line


def busy_provider(sent_at: list[float]) -> Iterator[Chunk]:
    """Chunks that are ready at once, each after some parsing, as a fast model's are."""
    for number in range(CHUNKS):
        total = 0
        for step in range(PARSING_LOOPS):
            total += step
        sent_at.append(time.perf_counter())
        yield Chunk(content=f"token {number}", done=number == CHUNKS - 1)


def first_chunk_wait_ms() -> float:
    """From the reader having the first chunk to the request thread holding it."""
    sent_at: list[float] = []
    feed = read_provider(busy_provider(sent_at), ping_seconds=5)
    received = time.perf_counter()
    feed.close()
    return (received - sent_at[0]) * 1000


def main() -> None:
    waits = sorted(first_chunk_wait_ms() for _ in range(STREAMS))
    p50, p99 = statistics.median(waits), waits[int(len(waits) * 0.99) - 1]
    switch_ms = sys.getswitchinterval() * 1000
    print(f"first chunk, reader thread to request thread, {STREAMS} streams:")
    print(f"  p50 {p50:.3f} ms, p99 {p99:.3f} ms")
    print(f"  the interpreter's switch interval, what a chunk could wait without the hand-over: "
          f"{switch_ms:.1f} ms (p50 is {p50 / switch_ms:.1%} of it)")  # fmt: skip


if __name__ == "__main__":
    main()
