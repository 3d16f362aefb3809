"""What limits apply to a user and how much of each is left, for `GET /me`."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from flask import current_app
from limits import parse_many

from chatapp.models import User
from chatapp.ratelimit.limiter import (
    GLOBAL_SCOPE,
    LLM_SCOPE,
    hourly_limit_for,
    limiter,
    user_key_for,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LimitUsage:
    """A limit, and what is left of it: unknown (None) when limiting is off or storage is down."""

    limit: str
    remaining: int | None = None
    reset_at: float | None = None


def rate_limit_report(user: User) -> dict[str, LimitUsage]:
    """Each limit with what remains of it now, read from the limiter's own storage."""
    config = current_app.config
    return {
        "requests": usage(hourly_limit_for(user, config), user_key_for(user), GLOBAL_SCOPE),
        "chat": usage(config["CHAT_RATE_LIMIT"], user_key_for(user), LLM_SCOPE),
    }


def usage(limit: str, key: str, scope: str) -> LimitUsage:
    """The tightest of the limits in `limit` (e.g. "30/minute;500/day") for `key` in `scope`."""
    if not current_app.config["RATELIMIT_ENABLED"]:
        return LimitUsage(limit=limit)
    try:
        windows = [limiter.limiter.get_window_stats(item, key, scope) for item in parse_many(limit)]
    except Exception as exc:  # the storage is down: report the limits without the usage
        log.warning("could not read rate limit usage: %s", exc)
        return LimitUsage(limit=limit)
    tightest = min(windows, key=lambda window: window.remaining)
    return LimitUsage(
        limit=limit, remaining=tightest.remaining, reset_at=round(tightest.reset_time, 3)
    )
