"""`GET /metrics`: Prometheus' text format, for METRICS_TOKEN or an administrator's key."""

from __future__ import annotations

from flask import Blueprint, Response, request
from spectree import Response as SpecResponse

from chatapp import metrics
from chatapp.auth import authorize_metrics, public
from chatapp.openapi import api_spec
from chatapp.schemas.common import ErrorResponse

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
@public  # to the usual key check: a scraper sends METRICS_TOKEN, checked here
@api_spec.validate(
    resp=SpecResponse(
        HTTP_200=None, HTTP_401=ErrorResponse, HTTP_403=ErrorResponse, HTTP_429=ErrorResponse
    ),
    tags=["meta"],
)
def prometheus_metrics() -> Response:
    authorize_metrics(request.headers.get("Authorization"))
    return metrics.exposition()
