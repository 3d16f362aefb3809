"""The limiter: keyed by user, the hourly and LLM limits, exemptions, and binding to an app."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Mapping
from contextlib import suppress
from typing import Any, TypeVar

from flask import Flask, Response, current_app, g, request
from flask_limiter import ApplicationLimit, Limiter, RequestLimit
from limits import parse_many
from limits.strategies import SlidingWindowCounterRateLimiter
from sqlalchemy.exc import SQLAlchemyError

from chatapp.db_wait import DeadlineExceeded
from chatapp.extensions import db
from chatapp.ratelimit import purge, sql, storage  # importing storage registers its scheme
from chatapp.services import keys

log = logging.getLogger(__name__)

GLOBAL_SCOPE = "global"  # one hourly budget per user, shared by every authenticated endpoint
OWN_RETRY_AFTER = "own_retry_after"  # in flask.g: the Retry-After a response had before ours
LLM_SCOPE = "llm"  # one LLM budget per user, shared by POST /chat and /v1/chat/completions
PROVIDER_FAILURES = frozenset({502, 503, 504})  # an LLM call that failed before any token
LLM_CALL_LET_IN = "llm_call_let_in"  # in flask.g: when this request's LLM call was counted
USER_ID_MARK = "\x00"  # a user's id in a hit's key, before the user is known

F = TypeVar("F", bound=Callable[..., Any])


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

_llm_limit_of_views = limiter.shared_limit(
    _llm_limit,
    scope=LLM_SCOPE,
    error_message=lambda: f"Rate limit exceeded for LLM calls: {_llm_limit()} per user",
)


def llm_calls(view: F) -> F:
    """Decorates each view that calls the LLM: CHAT_RATE_LIMIT per user, shared by all of them.

    The view notes when its call was let in (and counted), for _give_back_failed_llm_call.
    """

    @functools.wraps(view)
    def let_in(*args: Any, **kwargs: Any) -> Any:
        setattr(g, LLM_CALL_LET_IN, time.time())
        return view(*args, **kwargs)

    limited = _llm_limit_of_views(let_in)
    limited.spends_llm_budget = True  # type: ignore[attr-defined]  # read by _view_llm_limit
    return limited


def find_key_owner_with_hits(clear: str) -> keys.KeyOwner | None:
    """The key's owner, as keys.find_key_owner; on PostgreSQL with our storage in use, found by
    the statement that writes the request's hits, which then need no round trip of their own.

    Elsewhere, or when that statement fails, the key is looked up as usual and the hits go
    ahead of the view by themselves (`_acquire_in_advance`).
    """
    database_storage = _database_storage()
    if database_storage is None or database_storage.engine.dialect.name != "postgresql":
        return keys.find_key_owner(clear)
    digest = keys.hash_key(clear)
    try:
        rows = database_storage.find_owner_and_hit(digest, _user_hits())
    except SQLAlchemyError as exc:  # logged by the storage
        if isinstance(getattr(exc, "orig", None), DeadlineExceeded):
            raise  # a silent database: the usual lookup would wait as long again, then fail
        return keys.find_key_owner(clear)
    if not rows or not keys.is_same_digest(rows[0].key_hash, digest):
        return None
    owner = keys.owner_of_row(rows[0], database_storage.engine.dialect)
    if owner.user.is_active:  # an inactive user's hits were not written
        storage.note_outcomes(_hits_of(owner.user), rows)
    return owner


def _acquire_in_advance() -> None:
    """Send the request's hits (hourly, and LLM on the views that call it) as one statement,
    unless authentication's statement already did.

    Flask-Limiter checks the hourly limit before the request and the LLM limit in the view's
    decorator, a storage round trip each; the storage then answers both from this one.
    """
    database_storage = _database_storage()
    if g.get("user") is None or database_storage is None or storage.hits_planned():
        return
    with suppress(SQLAlchemyError):  # logged; each hit then goes its own way
        database_storage.acquire_in_advance(_hits_of(g.user))


def _database_storage() -> storage.DatabaseStorage | None:
    """Our storage, when the limiter uses it now: not in its in-memory fallback while our
    storage is down, nor with limiting off or another storage configured."""
    if not _uses_our_storage(current_app.config):
        return None
    strategy = limiter.limiter
    if isinstance(strategy, SlidingWindowCounterRateLimiter) and isinstance(
        strategy.storage, storage.DatabaseStorage
    ):
        return strategy.storage
    return None


def _hits_of(user: Any) -> list[storage.Hit]:
    """The user's hits for this request, in Flask-Limiter's order: the hourly limits, then the
    view's, each sorted."""
    hourly_limit = hourly_limit_for(user, current_app.config)
    return _hits_for(user_key_for(user), hourly_limit, _view_llm_limit())


def _view_llm_limit() -> str | None:
    """CHAT_RATE_LIMIT on the views that call the LLM, None on the others."""
    view = current_app.view_functions.get(request.endpoint or "")
    return _llm_limit() if getattr(view, "spends_llm_budget", False) else None


def _hits_for(user_key: str, hourly_limit: str, llm_limit: str | None) -> list[storage.Hit]:
    hits = _hits(hourly_limit, GLOBAL_SCOPE, user_key)
    return hits + _hits(llm_limit, LLM_SCOPE, user_key) if llm_limit else hits


def _hits(limits: str, scope: str, user_key: str) -> list[storage.Hit]:
    return [
        storage.Hit(storage.counter_key(item.key_for(user_key, scope)),
                    item.amount, item.get_expiry())
        for item in sorted(parse_many(limits))
    ]  # fmt: skip


def _user_hits() -> tuple[storage.UserHit, ...]:
    """This request's hits before its user is known: a mark stands for the user's id."""
    hourly_limit = hourly_limit_for(_UnknownUser, current_app.config)
    return _user_hits_for(hourly_limit, _view_llm_limit())


@functools.cache
def _user_hits_for(hourly_limit: str, llm_limit: str | None) -> tuple[storage.UserHit, ...]:
    """Planned once per setting: they depend on the user only through its id and own limit."""
    hits = _hits_for(user_key_for(_UnknownUser), hourly_limit, llm_limit)
    return tuple(_user_hit(hit) for hit in hits)


def _user_hit(hit: storage.Hit) -> storage.UserHit:
    key_head, _mark, key_tail = hit.key.partition(USER_ID_MARK)
    labels = sql.labels_of(hit.key)
    label_head = labels["user_key"].removesuffix(USER_ID_MARK)
    user_limited = labels["endpoint"] == GLOBAL_SCOPE
    return storage.UserHit(
        key_head, key_tail, label_head, labels["endpoint"], hit.limit, hit.expiry, user_limited,
        hit.amount,
    )  # fmt: skip


class _UnknownUser:
    """The user of a hit planned before authentication: the mark for an id, no own limit."""

    id = USER_ID_MARK
    rate_limit_per_hour = None


def _give_back_failed_llm_call(response: Response) -> Response:
    """An LLM call that failed before any token (502, 503, 504) doesn't spend the LLM budget.

    It was counted when it was let in, in one atomic hit, so that concurrent calls can't
    overshoot the limit (Flask-Limiter's deduct_when tests first and counts later, and can); so
    it is given back here, before Flask-Limiter reads the window for its headers.
    """
    let_in = g.pop(LLM_CALL_LET_IN, None)
    if let_in is not None and response.status_code in PROVIDER_FAILURES:
        for counted in limiter.current_limits:
            if _counts_this_call(counted, let_in):
                _give_back(counted)
    return response


def _counts_this_call(counted: RequestLimit, let_in: float) -> bool:
    """The LLM limit, if it counted this call in the window that is still current.

    The sliding-window counter's windows are aligned to the clock, so there this is exact. A
    fixed window starts at its first hit: at its end one call may be given back to the next
    window, or not at all.
    """
    seconds = counted.limit.get_expiry()
    same_window = int(let_in // seconds) == int(time.time() // seconds)
    return counted.request_args[-1] == LLM_SCOPE and not counted.breached and same_window


def _give_back(counted: RequestLimit) -> None:
    try:
        limiter.limiter.hit(counted.limit, *counted.request_args, cost=-1)
    except Exception as exc:  # as RATELIMIT_SWALLOW_ERRORS: the call stays counted
        log.error("could not give back a failed LLM call: %s", exc)


def _note_own_retry_after(response: Response) -> Response:
    """Runs before Flask-Limiter's headers: the Retry-After the response came with, if any."""
    setattr(g, OWN_RETRY_AFTER, response.headers.get("Retry-After"))
    return response


def _retry_after_only_where_meant(response: Response) -> Response:
    """Runs after Flask-Limiter's headers, which put Retry-After on every limited response.

    The limiter's value means "wait for the limit" only on the limiter's own 429. Any other
    response keeps the Retry-After it came with, unraised, or none: a stream slot's 429 its
    own, a provider failure the provider's; a 503 or 504 without one tells no one to wait.
    """
    own = g.pop(OWN_RETRY_AFTER, None)
    if own is not None:
        response.headers["Retry-After"] = own
    elif response.status_code != 429:
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
    # Flask runs after_request hooks in the reverse order of their registration.
    app.after_request(_retry_after_only_where_meant)  # last, after the limiter's headers
    forget_previous_app(limiter)
    limiter.init_app(app)  # the limiter's headers
    app.after_request(_give_back_failed_llm_call)  # before them
    app.after_request(_note_own_retry_after)  # first
