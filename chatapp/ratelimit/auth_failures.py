"""AUTH_FAILURE_LIMIT: failed authentications per client IP, counted in the limiter's storage."""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager

from flask import current_app
from limits import RateLimitItem, parse_many
from werkzeug.exceptions import TooManyRequests

from chatapp.errors import Unauthorized
from chatapp.ratelimit.limiter import limiter

log = logging.getLogger(__name__)

AUTH_FAILURE_SCOPE = "auth-failure"
BLOCKED_KEY = "chatapp.auth_failures.blocked"
MAX_BLOCKED = 10_000  # past this, expired entries are dropped


@contextmanager
def counting_failures(client_ip: str | None) -> Iterator[None]:
    """Count the wrapped authentication against the client IP if it fails.

    Past the limit the failure answers 429, and until the window frees up this process refuses
    that IP's further attempts before looking at the key, so guesses are never evaluated.
    Successful authentications never count.
    """
    client = f"ip:{client_ip or 'unknown'}"
    _refuse_if_blocked(client)
    try:
        yield
    except Unauthorized:
        _count_failure(client)
        raise


def _refuse_if_blocked(client: str) -> None:
    blocked = current_app.extensions.get(BLOCKED_KEY, {})
    until = blocked.get(client)
    if until is not None and until > time.time():
        raise _too_many(until)
    blocked.pop(client, None)


def _count_failure(client: str) -> None:
    if not current_app.config["RATELIMIT_ENABLED"]:
        return
    items = parse_many(current_app.config["AUTH_FAILURE_LIMIT"])
    try:
        over = [item for item in items if not limiter.limiter.hit(item, client, AUTH_FAILURE_SCOPE)]
        until = max((_reset_at(item, client) for item in over), default=None)
    except Exception as exc:  # any storage failure: serve the 401 uncounted rather than a 500
        log.error("could not count a failed authentication: %s", exc)
        return
    if until is not None:
        _block(client, until)
        raise _too_many(until)


def _reset_at(item: RateLimitItem, client: str) -> float:
    return limiter.limiter.get_window_stats(item, client, AUTH_FAILURE_SCOPE).reset_time


def _block(client: str, until: float) -> None:
    blocked = current_app.extensions.setdefault(BLOCKED_KEY, {})
    if len(blocked) >= MAX_BLOCKED:
        now = time.time()
        for stale in [key for key, value in list(blocked.items()) if value <= now]:
            blocked.pop(stale, None)
    blocked[client] = until


def _too_many(until: float) -> TooManyRequests:
    return TooManyRequests(
        "Too many failed authentications from this address; retry later",
        retry_after=max(1, math.ceil(until - time.time())),
    )
