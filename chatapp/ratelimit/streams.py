"""MAX_STREAMS_PER_USER: a user's open streams, as leased slots in the rate-limit storage.

A stream holds one of the user's slots (`streams/user:<id>/<n>`) from before the provider is
called until its last byte, however it ends. The slot is a counter with an expiry, so the count
is shared by every worker and instance, and a slot whose worker died frees itself when its lease
runs out; a live stream renews its lease as its events flow (pings included).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from flask import current_app
from limits.storage import Storage

from chatapp.errors import RateLimited
from chatapp.ratelimit.limiter import limiter

log = logging.getLogger(__name__)

T = TypeVar("T")
LEASES_PER_PING = 4
RETRY_AFTER_SECONDS = 5


class StreamSlot:
    """One slot of a user's, leased for `lease` seconds at a time."""

    def __init__(self, storage: Storage, key: str, lease: int) -> None:
        self.storage = storage
        self.key = key
        self.lease = lease
        self.renewed_at = time.monotonic()

    def keep(self) -> None:
        """Renew the lease once a third of it has passed (clear, then take it again)."""
        if time.monotonic() - self.renewed_at < self.lease / 3:
            return
        self.renewed_at = time.monotonic()
        try:
            self.storage.clear(self.key)
            self.storage.incr(self.key, self.lease)
        except Exception as exc:  # the stream goes on; at worst the slot frees itself early
            log.warning("could not renew stream slot %s: %s", self.key, exc)

    def release(self) -> None:
        try:
            self.storage.clear(self.key)
        except Exception as exc:  # the lease runs out on its own
            log.warning("could not release stream slot %s: %s", self.key, exc)


def limit_streams(user: Any, open_stream: Callable[[], Iterator[T]]) -> Iterator[T]:
    """`open_stream()`'s items, while the stream holds one of the user's slots.

    429 `rate_limited` when all of them are held. A slot is taken before `open_stream` runs
    (it calls the provider), and given back when it fails or when the stream ends or is closed.
    """
    limit = current_app.config["MAX_STREAMS_PER_USER"]
    if not limit or not current_app.config["RATELIMIT_ENABLED"]:
        return open_stream()
    slot = _take_slot(user.id, limit, _lease_seconds())
    try:
        items = open_stream()
    except BaseException:
        _release(slot)
        raise
    return _holding(slot, items)


def _take_slot(user_id: int, limit: int, lease: int) -> StreamSlot | None:
    """A free slot of the user's; None, to serve unlimited, when the storage fails.

    Slots are tried in a random order, so a user with k of n slots held finds a free one in
    about n / (n - k) writes, not k; only a user at the limit costs n writes.
    """
    storage = limiter.storage
    try:
        for n in random_order(limit):
            key = f"streams/user:{user_id}/{n}"
            if storage.incr(key, lease) == 1:  # 1: the slot was free (or its lease had run out)
                return StreamSlot(storage, key, lease)
    except Exception as exc:  # as RATELIMIT_SWALLOW_ERRORS: a storage hiccup is no outage
        log.error("stream slots unavailable, serving unlimited: %s", exc)
        return None
    raise RateLimited(f"At most {limit} streams at once per user", RETRY_AFTER_SECONDS)


def random_order(count: int) -> Iterator[int]:
    """0 to count - 1 in a random order, drawn as they are asked for (Fisher-Yates, its swaps
    kept in a dict): with a large limit, the first free slot costs one draw, not a shuffle of
    every slot (0.16 ms for 1,000)."""
    swapped: dict[int, int] = {}
    for position in range(count):
        drawn = random.randrange(position, count)
        yield swapped.get(drawn, drawn)
        swapped[drawn] = swapped.get(position, position)


def _holding(slot: StreamSlot | None, items: Iterator[T]) -> Iterator[T]:
    try:
        for item in items:
            if slot:
                slot.keep()
            yield item
    finally:
        close = getattr(items, "close", None)
        if close:
            close()  # first, so that a cancelled turn is stored before the slot is free
        _release(slot)


def _release(slot: StreamSlot | None) -> None:
    if slot:
        slot.release()


def _lease_seconds() -> int:
    """Four ping intervals (a minute by default): pings keep a silent stream renewing."""
    return max(1, round(LEASES_PER_PING * current_app.config["STREAM_PING_SECONDS"]))
