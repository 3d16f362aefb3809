"""Message ids made by the application before a turn's provider call (SPEC 14).

A streamed turn names its user message in `start`, before anything is stored (a failed call
stores nothing), and its reply's parent is known before the single write. So the ids are
chosen here: 63-bit integers, milliseconds since EPOCH_MS in the high bits and a random
start plus a per-process counter in the low ones. They increase with time (rows from before
trees keep their small ids, below every new one), strictly within a process; two processes
collide only if they pick the same 22 random bits in the same millisecond.
"""

from __future__ import annotations

import secrets
import threading
import time

EPOCH_MS = 1_735_689_600_000  # 2025-01-01 UTC: 41 bits of milliseconds last until 2094
LOW_BITS = 22
RANDOM_BITS = LOW_BITS - 2  # headroom for a few consecutive ids in the same millisecond

_lock = threading.Lock()
_last = 0


def new_ids(count: int) -> list[int]:
    """`count` consecutive fresh ids, each larger than any this process made before."""
    global _last
    with _lock:
        stamp = (int(time.time() * 1000) - EPOCH_MS) << LOW_BITS
        first = max(stamp | secrets.randbits(RANDOM_BITS), _last + 1)
        _last = first + count - 1
    return list(range(first, first + count))


def parse(message_id: str) -> int | None:
    """A message id from the API (an opaque string), or None if it can't be one of ours."""
    if not message_id.isascii() or not message_id.isdigit() or len(message_id) > 19:
        return None
    value = int(message_id)
    return value if 0 < value < 2**63 else None
