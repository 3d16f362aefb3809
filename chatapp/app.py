"""The application factory."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    from chatapp import (
        admin_check,
        api,
        auth,
        database,
        errors,
        http_headers,
        logs,
        metrics,
        openapi,
        ratelimit,
        request_guards,
    )
    from chatapp.config import load_config
    from chatapp.services import llm

    app = Flask("chatapp", instance_relative_config=False)
    app.config.update(load_config(app.instance_path, overrides))
    app.json.sort_keys = False  # the chat list is an object keyed by chat_id, newest first
    logs.configure_logging(app.config["LOG_LEVEL"], app.config["LOG_FORMAT"])

    database.init_app(app)
    llm.init_app(app)
    # The request pipeline: Flask runs these hooks in this order, and each needs the last.
    logs.init_app(app)  # a request ID first, so that every later log line carries one
    metrics.init_app(app)  # the clock starts before any check that may refuse the request
    http_headers.init_app(app)  # a CORS preflight is answered before any other check
    request_guards.init_app(app)  # a malformed body or path is refused before any key lookup
    auth.init_app(app)  # sets g.user...
    ratelimit.init_app(app)  # ...which the limits are keyed on
    admin_check.init_app(app)  # after the limits, so a non-admin's refused call still counts
    api.init_app(app)
    errors.init_app(app)
    openapi.init_app(app)
    trust_proxies(app, app.config["TRUSTED_PROXIES"])
    return app


def trust_proxies(app: Flask, count: int) -> None:
    """Behind `count` proxies, take the client's address and scheme from their X-Forwarded-For
    and X-Forwarded-Proto: auth-failure limiting and the logs then see the real client."""
    if count > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)  # type: ignore[method-assign]
