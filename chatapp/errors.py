"""The API's error tree and the one place that renders every error as the SPEC envelope."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, g, jsonify
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from chatapp.extensions import db

log = logging.getLogger(__name__)


class ApiError(Exception):
    status = 500
    code = "internal_error"
    message = "Internal server error"

    def __init__(
        self,
        message: str | None = None,
        details: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message
        self.details = details
        self.headers = headers or {}


class BadRequest(ApiError):
    status, code, message = 400, "bad_request", "The request body must be a JSON object"


class ModelNotFound(ApiError):
    status, code, message = 400, "model_not_found", "Model not found"


class Unauthorized(ApiError):
    status, code, message = 401, "unauthorized", "A valid API key is required"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message, headers={"WWW-Authenticate": 'Bearer realm="chatapp"'})


class Forbidden(ApiError):
    status, code, message = 403, "forbidden", "Administrator access is required"


class NotFound(ApiError):
    status, code, message = 404, "not_found", "Not found"


class ChatNotFound(NotFound):
    code = "chat_not_found"

    def __init__(self, chat_id: str) -> None:
        super().__init__(f"Chat '{chat_id}' not found")


class PromptNotFound(NotFound):
    code = "prompt_not_found"

    def __init__(self, prompt_id: str) -> None:
        super().__init__(f"Prompt '{prompt_id}' not found")


class UserNotFound(NotFound):
    code = "user_not_found"

    def __init__(self, username: str) -> None:
        super().__init__(f"User '{username}' not found")


class Conflict(ApiError):
    status, code, message = 409, "conflict", "Conflict"


class UnsupportedMediaType(ApiError):
    status, code, message = 415, "unsupported_media_type", "Send the body as application/json"


class ValidationFailed(ApiError):
    status, code, message = 422, "validation_error", "The request is not valid"

    def __init__(self, message: str | None = None, details: list[dict[str, Any]] | None = None):
        # Clients that show only the message (the openai SDK, a curl user) still learn why.
        if message is None and details:
            first = details[0]
            more = f" (and {len(details) - 1} more)" if len(details) > 1 else ""
            message = f"{self.message}: {first['field']}: {first['message']}{more}"
        super().__init__(message, details)


class ProviderFailed(ApiError):
    status, code, message = 502, "provider_error", "The LLM provider returned an error"


class ProviderUnavailable(ApiError):
    status, code, message = 503, "provider_unavailable", "The LLM provider can't be reached"


class DatabaseUnavailable(ApiError):
    status, code, message = 503, "database_unavailable", "The database is unavailable"


class ProviderTimeout(ApiError):
    status, code, message = 504, "provider_timeout", "The LLM provider timed out"


# werkzeug's own errors keep their status and get a code of ours.
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def envelope(code: str, message: str, details: list[dict[str, Any]] | None = None) -> dict:
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return {"success": False, "error": error}


def error_response(error: ApiError) -> Response:
    response = jsonify(envelope(error.code, error.message, error.details))
    response.status_code = error.status
    response.headers.update(error.headers)
    return response


def api_error_from_provider(exc: Exception) -> ApiError:
    """Map the provider layer's typed errors onto the API's (SPEC sections 5 and 7)."""
    from chatapp.providers import base

    if isinstance(exc, base.ModelNotFound):
        return ModelNotFound(str(exc))
    if isinstance(exc, base.ProviderTimeout):
        return ProviderTimeout(str(exc))
    if isinstance(exc, base.ProviderUnavailable):
        return ProviderUnavailable(str(exc))
    return ProviderFailed(str(exc))


def api_error_from_exception(exc: Exception) -> ApiError:
    """Any exception as an ApiError; unknown ones become a 500 that reveals nothing."""
    from chatapp.providers.base import ProviderError

    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, ProviderError):
        return api_error_from_provider(exc)
    if isinstance(exc, OperationalError | PoolTimeout) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    ):
        return DatabaseUnavailable()
    return ApiError()


def _render_http_exception(exc: HTTPException) -> Response:
    status = exc.code or 500
    code = HTTP_CODES.get(status, "bad_request" if status < 500 else "internal_error")
    message = exc.description if status != 413 else "The request body is too large"
    response = jsonify(envelope(code, str(message)))
    response.status_code = status
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _render_exception(exc: Exception) -> Response:
    error = api_error_from_exception(exc)
    request_id = g.get("request_id", "-")
    if error.status >= 500 and type(error) is ApiError:
        log.exception("unhandled error (request %s)", request_id)
    elif isinstance(error, DatabaseUnavailable):
        log.error("database unavailable (request %s): %s", request_id, exc)
    db.session.rollback()
    return error_response(error)


def init_app(app: Flask) -> None:
    app.register_error_handler(ApiError, error_response)
    app.register_error_handler(HTTPException, _render_http_exception)
    app.register_error_handler(Exception, _render_exception)
