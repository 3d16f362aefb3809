"""The application factory."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask, request

from chatapp.errors import BadRequest, UnsupportedMediaType, ValidationFailed

BODY_METHODS = {"POST", "PUT", "PATCH"}


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    from chatapp import api, auth, database, llm, logs, ratelimit
    from chatapp.config import load_config
    from chatapp.errors import register_error_handlers
    from chatapp.extensions import db, migrate
    from chatapp.openapi import register_docs

    app = Flask("chatapp", instance_relative_config=False)
    app.config.update(load_config(app.instance_path, overrides))
    app.json.sort_keys = False  # the chat list is an object keyed by chat_id, newest first
    logs.configure_logging(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])

    db.init_app(app)
    migrate.init_app(app, db, directory=str(database.MIGRATIONS_DIR), render_as_batch=True)
    llm.init_app(app)
    logs.init_request_ids(app)
    app.before_request(require_json_object_body)
    app.before_request(refuse_nul_in_path)
    auth.init_auth(app)
    ratelimit.init_app(app)  # after auth: limits are keyed on the authenticated user
    auth.init_admin_check(app)
    api.register_blueprints(app)
    register_error_handlers(app)
    register_docs(app)
    return app


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
