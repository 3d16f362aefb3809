"""The limiter: keyed by user, the hourly and LLM limits, exemptions, and binding to an app."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from contextlib import suppress
from typing import Any

from flask import Flask, Response, current_app, g, request
from flask_limiter import ApplicationLimit, Limiter
from limits import parse_many
from limits.strategies import SlidingWindowCounterRateLimiter
from sqlalchemy.exc import SQLAlchemyError

from chatapp.extensions import db
from chatapp.ratelimit import purge, storage  # importing storage registers its scheme

GLOBAL_SCOPE = "global"  # one hourly budget per user, shared by every authenticated endpoint
OWN_RETRY_AFTER = "own_retry_after"  # in flask.g: a Retry-After that Flask-Limiter must not raise
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


def forget_previous_app(limiter: Limiter) -> None:
    """Undo what Flask-Limiter keeps from the last app it was bound to.

    It keeps the first app's strategy and storage options, its "storage is dead" flag and the
    back-off before re-checking a dead storage, for good; tests and the desktop's embedded server
    build several apps per process. These are private attributes, so this is the one place that
    names them, and tests/ratelimit/test_flask_limiter.py fails if a release renames them.
    """
    limiter._strategy = None
    limiter._storage_options = {}
    limiter._storage_dead = False
    limiter._Limiter__check_backend_count = 0


def _hourly_limit() -> ApplicationLimit:
    return ApplicationLimit(
        _current_hourly_limit,
        scope=GLOBAL_SCOPE,
        error_message=lambda: f"Rate limit exceeded: {_current_hourly_limit()} per user",
    )


limiter = Limiter(key_func=_current_user_key, application_limits=[_hourly_limit()])
limiter.logger = logging.getLogger(__name__)  # storage down, fallback, recovery: with request IDs
limiter.request_filter(_is_exempt)

_llm_budget = limiter.shared_limit(
    _llm_limit,
    scope=LLM_SCOPE,
    error_message=lambda: f"Rate limit exceeded for LLM calls: {_llm_limit()} per user",
)


def llm_calls(view: Callable[..., Any]) -> Callable[..., Any]:
    """Decorates each view that calls the LLM: CHAT_RATE_LIMIT per user, shared by them all."""
    limited = _llm_budget(view)
    limited.spends_llm_budget = True  # type: ignore[attr-defined]  # read by _planned_hits
    return limited


def _acquire_in_advance() -> None:
    """Send the request's hits (hourly, and LLM on the views that call it) as one statement.

    Flask-Limiter checks the hourly limit before the request and the LLM limit in the view's
    decorator, a storage round trip each; the storage then answers both from this one.
    """
    strategy = limiter.limiter  # the in-memory fallback while our storage is down
    if g.get("user") is None or not isinstance(strategy, SlidingWindowCounterRateLimiter):
        return
    if isinstance(strategy.storage, storage.DatabaseStorage):
        with suppress(SQLAlchemyError):  # logged; each hit then goes its own way
            strategy.storage.acquire_in_advance(_planned_hits())


def _planned_hits() -> list[storage.Hit]:
    """The hits, in Flask-Limiter's order: the hourly limits, then the view's, each sorted."""
    hits = _hits(_current_hourly_limit(), GLOBAL_SCOPE)
    view = current_app.view_functions.get(request.endpoint or "")
    if getattr(view, "spends_llm_budget", False):
        hits += _hits(_llm_limit(), LLM_SCOPE)
    return hits


def _hits(limits: str, scope: str) -> list[storage.Hit]:
    return [
        storage.Hit(storage.counter_key(item.key_for(_current_user_key(), scope)),
                    item.amount, item.get_expiry())
        for item in sorted(parse_many(limits))
    ]  # fmt: skip


def _retry_after_only_on_429(response: Response) -> Response:
    """Flask-Limiter adds Retry-After to every limited response; it means "wait" only on 429s.

    A 429 of our own (a user's streams all open) keeps its own Retry-After: Flask-Limiter would
    raise it to the reset of whichever limit it reports, which says nothing about a stream.
    """
    own = g.pop(OWN_RETRY_AFTER, None)
    if own is not None:
        response.headers["Retry-After"] = own
    elif response.status_code < 500 and response.status_code != 429:
        response.headers.pop("Retry-After", None)
    return response


def _uses_our_storage(config: Mapping[str, Any]) -> bool:
    uri = config["RATELIMIT_STORAGE_URI"]
    return config["RATELIMIT_ENABLED"] and uri.startswith(f"{storage.SCHEME}://")


def _bind_database_storage(app: Flask) -> None:
    """Give the storage its own engine on the app's database, and purge expired rows."""
    with app.app_context():
        engine = storage.storage_engine(db.engine, app.config["SQLALCHEMY_ENGINE_OPTIONS"])
    app.extensions[storage.ENGINE_KEY] = engine
    app.config.setdefault("RATELIMIT_STORAGE_OPTIONS", {"engine": storage.current_storage_engine})
    purge.purge_in_background(app, app.config["RATELIMIT_PURGE_SECONDS"])


def init_app(app: Flask) -> None:
    """Bind the limiter; wire it after authentication, since limits are keyed on `g.user`."""
    if _uses_our_storage(app.config):
        _bind_database_storage(app)
        app.before_request(_acquire_in_advance)  # after authentication, before the limiter
    # Registered before the limiter's own hook, so it runs after it (Flask reverses them).
    app.after_request(_retry_after_only_on_429)
    forget_previous_app(limiter)
    limiter.init_app(app)
