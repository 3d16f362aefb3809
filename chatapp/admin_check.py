"""Admin-only views: 403 for any other user, checked after the limits so refusals count too."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import Flask, g

from chatapp.auth import current_view
from chatapp.errors import Forbidden

F = TypeVar("F", bound=Callable)


def admin_required(view: F) -> F:
    """Mark a view as admin only."""
    view.admin_only = True  # type: ignore[attr-defined]
    return view


def require_admin() -> None:
    user = g.get("user")  # None where no key was asked for: public views, OPTIONS
    if user is not None and getattr(current_view(), "admin_only", False) and not user.is_admin:
        raise Forbidden()


def init_app(app: Flask) -> None:
    app.before_request(require_admin)
