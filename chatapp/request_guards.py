"""Guards on a request's shape, before anyone looks at its key: its body and its path."""

from __future__ import annotations

from flask import Flask, request

from chatapp.errors import BadRequest, UnsupportedMediaType, ValidationFailed

BODY_METHODS = {"POST", "PUT", "PATCH"}


def require_json_object_body() -> None:
    """A body, when sent, must be a JSON object: 415 for another type, 400 for bad JSON."""
    if request.method not in BODY_METHODS or not _has_body():
        return
    if not request.is_json:
        raise UnsupportedMediaType()
    if not isinstance(request.get_json(silent=True), dict):
        raise BadRequest()


def refuse_nul_in_path() -> None:
    """422 for a NUL in a path segment: no ID can hold one, and PostgreSQL can't compare one."""
    details = [
        {"field": name, "message": "must not contain NUL characters"}
        for name, value in (request.view_args or {}).items()
        if isinstance(value, str) and "\x00" in value
    ]
    if details:
        raise ValidationFailed(details=details)


def _has_body() -> bool:
    return bool(request.content_length) or "chunked" in request.headers.get("Transfer-Encoding", "")


def init_app(app: Flask) -> None:
    app.before_request(require_json_object_body)
    app.before_request(refuse_nul_in_path)
