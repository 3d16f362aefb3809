"""`GET /metrics`: Prometheus' text format, for METRICS_TOKEN or an administrator's key."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request
from spectree import Response as SpecResponse

from chatapp import metrics
from chatapp.auth import authorize_metrics, public
from chatapp.openapi import api_spec
from chatapp.schemas.common import ErrorResponse

bp = Blueprint("metrics", __name__)


class PrometheusText(SpecResponse):
    """A 200 documented as Prometheus' text format (spectree knows only JSON models)."""

    def generate_spec(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        spec = super().generate_spec(*args, **kwargs)
        text = {"schema": {"type": "string", "description": "Prometheus' text exposition format"}}
        spec["200"]["content"] = {"text/plain": text}
        return spec


@bp.get("/metrics")
@public  # to the usual key check: a scraper sends METRICS_TOKEN, checked here
@api_spec.validate(
    resp=PrometheusText(
        HTTP_200=None,
        HTTP_401=ErrorResponse,
        HTTP_403=ErrorResponse,
        HTTP_429=ErrorResponse,
        HTTP_503=ErrorResponse,  # an admin key is checked in the database
    ),
    tags=["meta"],
)
def prometheus_metrics() -> Response:
    authorize_metrics(request.headers.get("Authorization"))
    return metrics.exposition()
