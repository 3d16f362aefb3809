"""What limits apply to a user, for `GET /me`."""

from __future__ import annotations

from flask import current_app

from chatapp.models import User
from chatapp.schemas.users import RateLimitUsage


def hourly_limit(user: User) -> str:
    per_hour = user.rate_limit_per_hour or current_app.config["RATE_LIMIT_PER_HOUR"]
    return f"{per_hour}/hour"


def rate_limit_report(user: User) -> dict[str, RateLimitUsage]:
    return {
        "requests": RateLimitUsage(limit=hourly_limit(user)),
        "chat": RateLimitUsage(limit=current_app.config["CHAT_RATE_LIMIT"]),
    }
