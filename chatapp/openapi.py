"""The OpenAPI document and request validation, both generated from the pydantic schemas."""

from __future__ import annotations

from typing import Any

from flask import Flask
from spectree import Response, SecurityScheme, SpecTree
from spectree.models import SecureType, SecuritySchemeData

from chatapp.errors import ValidationFailed
from chatapp.schemas.common import ErrorResponse


def _field_name(location: tuple[Any, ...]) -> str:
    return ".".join(str(part) for part in location) or "body"


def raise_validation_error(
    req: Any, resp: Any, req_validation_error: Exception | None, instance: Any, adapter: Any
) -> None:
    """spectree hook: render request validation failures through our error envelope."""
    if req_validation_error is None:
        return
    details = [
        {"field": _field_name(tuple(err["loc"])), "message": err["msg"]}
        for err in adapter.validation_errors(req_validation_error)
    ]
    raise ValidationFailed(details=details)


SPECTREE_ENDPOINT_PREFIX = "openapi_"  # spectree's own views: openapi_apidoc, ..._swagger

api_spec = SpecTree(
    "flask",
    title="chatapp",
    version="1",
    description="Self-hostable LLM chat service. Send `Authorization: Bearer <key>`.",
    annotations=True,
    naming_strategy=lambda model: model.__name__,
    before=raise_validation_error,
    validation_error_model=ErrorResponse,
    security_schemes=[
        SecurityScheme(
            name="bearerAuth", data=SecuritySchemeData(type=SecureType.HTTP, scheme="bearer")
        ),
    ],
    security={"bearerAuth": []},
)


def init_app(app: Flask) -> None:
    """Bind the document to the app. spectree adds its own pages under /apidoc too; like
    /openapi.json and /docs, they are public."""
    from chatapp.auth import public

    api_spec.register(app)
    for endpoint, view in app.view_functions.items():
        if endpoint.startswith(SPECTREE_ENDPOINT_PREFIX):
            public(view)


# Every authenticated route can answer these.
AUTHENTICATED_ERRORS = (401, 429)


def documented(status: int, model: Any, *errors: int, public: bool = False) -> Response:
    """The spectree response table for a route: its success shape and its error statuses."""
    error_statuses = errors if public else (*AUTHENTICATED_ERRORS, *errors)
    table = {f"HTTP_{status}": model}
    table.update({f"HTTP_{code}": ErrorResponse for code in error_statuses})
    return Response(**table)
