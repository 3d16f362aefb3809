"""The OpenAPI document and request validation, both generated from the pydantic schemas."""

from __future__ import annotations

import copy
from typing import Any

from flask import Flask, current_app
from pydantic import BaseModel
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


# Every authenticated route can answer these: no key, a limit, the database away.
AUTHENTICATED_ERRORS = (401, 429, 503)
# Every route that takes a body can answer these, before its key is looked at (request_guards):
# bad, empty or too deep JSON, too large a body, another media type.
BODY_ERRORS = {
    "400": "The body is not a JSON object, is empty, or nests deeper than 64 levels",
    "413": "The body is larger than MAX_CONTENT_LENGTH",
    "415": "The body is not application/json",
}
BODY_METHODS = ("post", "put", "patch")
ERROR_SCHEMA = {"$ref": "#/components/schemas/ErrorResponse"}
# The path parameters' forms (SPEC sections 4 and 5); a prompt may be named by its name.
PATH_PARAMETERS: dict[str, dict[str, Any]] = {
    "chat_id": {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
    "username": {"type": "string", "pattern": "^[A-Za-z0-9_.-]{1,64}$"},
    "prompt_id": {"type": "string", "minLength": 1, "maxLength": 100},
    "prefix": {"type": "string", "minLength": 1, "maxLength": 12},
    "message_id": {"type": "string", "minLength": 1, "maxLength": 64},  # opaque (SPEC 14)
}
# The public pages spectree doesn't describe: what each answers.
PUBLIC_PAGES = {
    "/openapi.json": ("application/json", {"type": "object"}, "This document"),
    "/docs": ("text/html", {"type": "string"}, "Swagger UI over this document, served offline"),
}
# Operations whose body may be left out (every field has a default).
OPTIONAL_BODIES = {("/me/keys", "post")}
# Models that only Server-Sent Events name: spectree's components don't include them.
EVENT_MODELS: list[type[BaseModel]] = []


def documented(status: int, model: Any, *errors: int, public: bool = False) -> Response:
    """The spectree response table for a route: its success shape and its error statuses."""
    error_statuses = errors if public else (*AUTHENTICATED_ERRORS, *errors)
    table = {f"HTTP_{status}": model}
    table.update({f"HTTP_{code}": ErrorResponse for code in error_statuses})
    return Response(**table)


def sse_event(name: str, data: type[BaseModel] | None = None, text: str | None = None) -> dict:
    """The schema of one Server-Sent Event: its name and its data, JSON of `data`, or `text`."""
    if data is not None:
        EVENT_MODELS.append(data)
        payload = {
            "type": "string",
            "contentMediaType": "application/json",
            "contentSchema": {"$ref": f"#/components/schemas/{data.__name__}"},
        }
    else:
        payload = {"const": text}
    return {
        "type": "object",
        "required": ["data"],
        "properties": {"event": {"const": name}, "data": payload},
    }


def document() -> dict[str, Any]:
    """The OpenAPI document: spectree's, completed with what spectree can't say, built once."""
    if "openapi_document" not in current_app.extensions:
        spec = copy.deepcopy(api_spec.spec)
        for path, item in spec["paths"].items():
            for method, operation in item.items():
                _complete(path, method, operation)
        _add_event_models(spec["components"]["schemas"])
        current_app.extensions["openapi_document"] = spec
    return current_app.extensions["openapi_document"]


def _complete(path: str, method: str, operation: dict[str, Any]) -> None:
    responses = operation.setdefault("responses", {})
    if method in BODY_METHODS:
        for status, description in BODY_ERRORS.items():
            responses.setdefault(status, _error_response(description))
    for parameter in operation.get("parameters", []):
        if parameter["in"] == "path" and parameter["name"] in PATH_PARAMETERS:
            parameter["schema"] = PATH_PARAMETERS[parameter["name"]]
    if (path, method) in OPTIONAL_BODIES:
        operation["requestBody"]["required"] = False
    if path in PUBLIC_PAGES:
        media_type, schema, description = PUBLIC_PAGES[path]
        operation.update(security=[], tags=["meta"])
        responses["200"] = {"description": description, "content": {media_type: {"schema": schema}}}


def _error_response(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ERROR_SCHEMA}}}


def _add_event_models(components: dict[str, Any]) -> None:
    for model in EVENT_MODELS:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        for name, definition in schema.pop("$defs", {}).items():
            components.setdefault(name, definition)
        components.setdefault(model.__name__, schema)
