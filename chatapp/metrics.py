"""Prometheus metrics (SPEC section 16): what is counted, and `GET /metrics`' text.

Under `chatapp serve` every gunicorn worker writes its samples to PROMETHEUS_MULTIPROC_DIR
(prometheus_client's multiprocess mode, chosen when that variable is set before the workers
import this module) and the text sums them over all workers. Without it (tests, `flask run`)
the process's own registry is the answer.
"""

from __future__ import annotations

import time

from flask import Flask, Response, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

# The label values known in advance (chatapp_rate_limited_total, chatapp_llm_*).
LIMITS = ("requests", "chat", "streams", "auth_failures", "quota_day", "quota_month")
OUTCOMES = ("ok", "error", "cancelled")
TOKEN_KINDS = ("prompt", "completion")
UNMATCHED_ROUTE = "<unmatched>"  # a path no route has: never the raw path, which is unbounded
STARTED = "metrics_started"  # in flask.g: when the request began

HTTP_REQUESTS = Counter(
    "chatapp_http_requests", "HTTP requests answered", ["method", "route", "status"]
)
HTTP_DURATION = Histogram(
    "chatapp_http_request_duration_seconds",
    "Time to a response's headers (a stream's body is not included)",
    ["route"],
)
LLM_REQUESTS = Counter(
    "chatapp_llm_requests", "LLM calls, by outcome: ok, error or cancelled", ["model", "outcome"]
)
LLM_TOKENS = Counter("chatapp_llm_tokens", "Tokens of LLM calls", ["model", "kind"])
FIRST_TOKEN = Histogram(
    "chatapp_llm_first_token_seconds",
    "Time from the provider call to its first token (the whole answer when not streamed)",
    ["model"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120),
)
STREAMS_IN_FLIGHT = Gauge(
    "chatapp_streams_in_flight", "Streamed answers being sent", multiprocess_mode="livesum"
)
RATE_LIMITED = Counter("chatapp_rate_limited", "Requests refused with 429, by limit", ["limit"])


def exposition() -> Response:
    """Every metric in Prometheus' text format: all workers' when they share a directory."""
    registry = REGISTRY
    directory = current_app.config["PROMETHEUS_MULTIPROC_DIR"]
    if directory:
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry, path=directory)
    # content_type, not mimetype: Flask would add a second "charset" to Prometheus' own.
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


def _start_timer() -> None:
    setattr(g, STARTED, time.perf_counter())


def _count_request(response: Response) -> Response:
    route = request.url_rule.rule if request.url_rule else UNMATCHED_ROUTE
    HTTP_REQUESTS.labels(request.method, route, str(response.status_code)).inc()
    started = g.get(STARTED)
    if started is not None:
        HTTP_DURATION.labels(route).observe(time.perf_counter() - started)
    return response


def _show_every_family(model: str) -> None:
    """Each metric at 0 for its known labels (and the default model), so that a scrape lists
    it from the start: Prometheus can't tell a series that appears later from a missing one."""
    for limit in LIMITS:
        RATE_LIMITED.labels(limit)
    for outcome in OUTCOMES:
        LLM_REQUESTS.labels(model, outcome)
    for kind in TOKEN_KINDS:
        LLM_TOKENS.labels(model, kind)
    FIRST_TOKEN.labels(model)


def init_app(app: Flask) -> None:
    from chatapp.services import llm

    app.before_request(_start_timer)
    app.after_request(_count_request)
    with app.app_context():
        _show_every_family(llm.default_model())
