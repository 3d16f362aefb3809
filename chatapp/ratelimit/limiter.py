"""The limiter: keyed by user, the hourly and LLM limits, exemptions, and binding to an app."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import cached_property
from typing import Any

from flask import Flask, Response, current_app, g
from flask_limiter import ApplicationLimit, Limiter, RouteLimit

GLOBAL_SCOPE = "global"  # one hourly budget per user, shared by every authenticated endpoint
LLM_SCOPE = "llm"  # one LLM budget per user, shared by POST /chat and /v1/chat/completions


def user_key_for(user: Any) -> str:
    return f"user:{user.id}"


def hourly_limit_for(user: Any, config: Mapping[str, Any]) -> str:
    """The user's own override, else RATE_LIMIT_PER_HOUR; read afresh on every request."""
    return f"{user.rate_limit_per_hour or config['RATE_LIMIT_PER_HOUR']}/hour"


def _current_user_key() -> str:
    return user_key_for(g.user)


def _current_hourly_limit() -> str:
    return hourly_limit_for(g.user, current_app.config)


def _llm_limit() -> str:
    return current_app.config["CHAT_RATE_LIMIT"]


def _is_exempt() -> bool:
    """Only authenticated requests are limited, so `/`, `/health` and the docs never are."""
    return g.get("user") is None


class AppLimiter(Limiter):
    """Flask-Limiter with our policy: per-user keys, the hourly budget and the LLM decorator."""

    def __init__(self) -> None:
        hourly = ApplicationLimit(
            _current_hourly_limit,
            scope=GLOBAL_SCOPE,
            error_message=lambda: f"Rate limit exceeded: {_current_hourly_limit()} per user",
        )
        super().__init__(key_func=_current_user_key, application_limits=[hourly])
        # Its warnings (storage down, fallback, recovery) go to our log, with request IDs.
        self.logger = logging.getLogger(__name__)
        self.request_filter(_is_exempt)

    @cached_property
    def llm_calls(self) -> RouteLimit:
        """Decorate each view that calls the LLM: CHAT_RATE_LIMIT per user, shared by all."""
        return self.shared_limit(
            _llm_limit,
            scope=LLM_SCOPE,
            error_message=lambda: f"Rate limit exceeded for LLM calls: {_llm_limit()} per user",
        )

    def init_app(self, app: Flask) -> None:
        # Limiter keeps the first app's strategy and storage options, and its "storage is dead"
        # flag, for good; tests and the desktop's embedded server build several apps per process.
        self._strategy = None
        self._storage_options = {}
        self._storage_dead = False
        self._Limiter__check_backend_count = 0  # the back-off before re-checking a dead storage
        super().init_app(app)


def _retry_after_only_on_429(response: Response) -> Response:
    """Flask-Limiter adds Retry-After to every limited response; it means "wait" only on 429s."""
    if response.status_code < 500 and response.status_code != 429:
        response.headers.pop("Retry-After", None)
    return response


def init_rate_limiting(app: Flask) -> None:
    """Bind the limiter; call it after `init_auth`, since limits are keyed on `g.user`."""
    from chatapp.extensions import db, limiter
    from chatapp.ratelimit import purge, storage  # importing storage registers its scheme

    config = app.config
    if config["RATELIMIT_ENABLED"] and config["RATELIMIT_STORAGE_URI"].startswith(
        f"{storage.SCHEME}://"
    ):
        with app.app_context():
            engine = storage.storage_engine(db.engine, config["SQLALCHEMY_ENGINE_OPTIONS"])
        app.extensions[storage.ENGINE_KEY] = engine
        config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"engine": storage.current_storage_engine})
        purge.purge_in_background(app, config["RATELIMIT_PURGE_SECONDS"])
    # Registered before the limiter's own hook, so it runs after it (Flask reverses them).
    app.after_request(_retry_after_only_on_429)
    limiter.init_app(app)
