"""AUTH_FAILURE_LIMIT: failed authentications per client IP, counted in the limiter's storage.

Only failures are counted and only failures are refused: a valid key is always judged by its
own user's limits, whoever failed before it from the same address (SPEC section 13), so a
shared address (a NAT, a proxy) can't be locked out by someone else's bad keys. The count
lives in the rate-limit storage, so it is shared by every worker and instance.
"""

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


@contextmanager
def counting_failures(client_ip: str | None) -> Iterator[None]:
    """Count the wrapped authentication against the client IP if it fails.

    A failure past the limit answers 429 instead of 401, until the window frees up.
    """
    try:
        yield
    except Unauthorized:
        _count_failure(f"ip:{client_ip or 'unknown'}")
        raise


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
        raise TooManyRequests(
            "Too many failed authentications from this address; retry later",
            retry_after=max(1, math.ceil(until - time.time())),
        )


def _reset_at(item: RateLimitItem, client: str) -> float:
    return limiter.limiter.get_window_stats(item, client, AUTH_FAILURE_SCOPE).reset_time
