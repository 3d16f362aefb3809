"""Bearer-key authentication for every endpoint not marked public; it sets `g.user`."""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import TypeVar

from flask import Flask, current_app, g, request

from chatapp import ratelimit
from chatapp.errors import Forbidden, Unauthorized
from chatapp.models import User
from chatapp.services import keys

F = TypeVar("F", bound=Callable)

BEARER = "Bearer "


def public(view: F) -> F:
    """Mark a view as reachable without a key."""
    view.is_public = True  # type: ignore[attr-defined]
    return view


def parse_bearer(header: str | None) -> str:
    """The key from exactly `Bearer <key>`; anything looser is rejected."""
    if not header:
        raise Unauthorized("Missing Authorization header; send 'Authorization: Bearer <key>'")
    if not header.startswith(BEARER) or not keys.is_well_formed(header[len(BEARER) :]):
        raise Unauthorized("Malformed Authorization header; send 'Authorization: Bearer <key>'")
    return header[len(BEARER) :]


def authenticate(
    header: str | None, find_owner: Callable[[str], keys.KeyOwner | None] = keys.find_key_owner
) -> User:
    """The key's user, read afresh on every request, so revocation and deactivation are
    immediate; one SELECT, and a write of `last_used_at` at most once a minute."""
    owner = find_owner(parse_bearer(header))
    if owner is None:
        raise Unauthorized("Unknown or revoked API key")
    if not owner.user.is_active:
        raise Unauthorized("This user is deactivated")
    keys.touch(owner)
    return owner.user


def authorize_metrics(header: str | None) -> None:
    """`Bearer $METRICS_TOKEN` when that is set, else an admin's key; 401 or 403 otherwise.

    A scraper holds no user key, so GET /metrics is public to the usual check and asks here;
    a failure counts toward AUTH_FAILURE_LIMIT as any other.
    """
    token = current_app.config["METRICS_TOKEN"]
    with ratelimit.counting_failures(request.remote_addr):
        if token is not None:
            if not hmac.compare_digest(parse_bearer(header).encode(), token.encode()):
                raise Unauthorized("Wrong token; send 'Authorization: Bearer $METRICS_TOKEN'")
            return
        user = authenticate(header)
    if not user.is_admin:
        raise Forbidden("Metrics need METRICS_TOKEN or an administrator's key")


def current_user() -> User:
    return g.user


def current_view() -> Callable | None:
    return current_app.view_functions.get(request.endpoint) if request.endpoint else None


def authenticate_request() -> None:
    view = current_view()
    if view is None or getattr(view, "is_public", False) or request.method == "OPTIONS":
        return
    with ratelimit.counting_failures(request.remote_addr):  # AUTH_FAILURE_LIMIT per client IP
        header = request.headers.get("Authorization")
        g.user = authenticate(header, ratelimit.find_key_owner_with_hits)


def init_app(app: Flask) -> None:
    app.before_request(authenticate_request)
