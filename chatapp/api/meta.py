"""`/`, `/health`, `/openapi.json` and `/docs`: the public endpoints."""

from __future__ import annotations

from flask import Blueprint, Response, current_app
from spectree import Response as SpecResponse
from spectree.page import PAGE_TEMPLATES

import chatapp
from chatapp.auth import public
from chatapp.openapi import api_spec, document, documented
from chatapp.schemas.meta import EndpointInfo, HealthResponse, RootResponse
from chatapp.services.health import health_report

bp = Blueprint("meta", __name__)

HIDDEN_PREFIXES = ("/apidoc", "/static")


def _endpoints() -> list[EndpointInfo]:
    rules = sorted(current_app.url_map.iter_rules(), key=lambda rule: rule.rule)
    return [
        EndpointInfo(method=method, path=rule.rule)
        for rule in rules
        if not rule.rule.startswith(HIDDEN_PREFIXES)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
    ]


@bp.get("/")
@public
@api_spec.validate(resp=documented(200, RootResponse, public=True), tags=["meta"], security={})
def index() -> RootResponse:
    return RootResponse(
        name="chatapp",
        version=chatapp.__version__,
        authentication="Send 'Authorization: Bearer <api key>' on every endpoint but /, /health, "
        "/openapi.json and /docs.",
        docs="/docs",
        endpoints=_endpoints(),
    )


@bp.get("/health")
@public
@api_spec.validate(
    resp=SpecResponse(HTTP_200=HealthResponse, HTTP_503=HealthResponse), tags=["meta"], security={}
)
def health() -> tuple[HealthResponse, int]:
    report = health_report()
    body = HealthResponse(
        status=report.status,
        version=chatapp.__version__,
        database=report.database,
        provider=report.provider,
        providers=report.providers,
    )
    return body, 503 if report.status == "down" else 200


@bp.get("/openapi.json")
@public
def openapi_document() -> Response:
    return current_app.json.response(document())


@bp.get("/docs")
@public
def docs_page() -> str:
    return PAGE_TEMPLATES["swagger"].format(spec_url="/openapi.json", spec_path="docs")
