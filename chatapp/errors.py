"""The API's error tree and the one place that renders every error as the SPEC envelope."""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, g, jsonify, request
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm.exc import ObjectDeletedError, StaleDataError
from werkzeug.exceptions import HTTPException

from chatapp import providers
from chatapp.database import release_session
from chatapp.metrics import RATE_LIMITED

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


class UserDeleted(NotFound):
    """The request's own user was deleted (by an admin) while the request was being served."""

    code, message = "user_not_found", "This user was deleted while the request was in progress"


class Conflict(ApiError):
    status, code, message = 409, "conflict", "Conflict"


class PayloadTooLarge(ApiError):
    status, code, message = 413, "payload_too_large", "The request body is too large"

    def __init__(self) -> None:
        # The body may not all have been read: the connection can't carry another request.
        super().__init__(headers={"Connection": "close"})


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


class RateLimited(ApiError):
    status, code, message = 429, "rate_limited", "Rate limit exceeded"
    limit = "streams"  # the chatapp_rate_limited_total label: which limit refused

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after)})


class QuotaExceeded(RateLimited):
    """The user's token quota for the UTC day or month is spent (SPEC section 16)."""

    code, message = "quota_exceeded", "Token quota exceeded"

    def __init__(self, period: str, quota: int, retry_after: int) -> None:
        super().__init__(
            f"Token quota exceeded: {quota} tokens per {period}; retry when the {period} ends",
            retry_after,
        )
        self.limit = f"quota_{period}"


class ProviderFailed(ApiError):
    status, code, message = 502, "provider_error", "The LLM provider returned an error"


class ProviderUnavailable(ApiError):
    status, code, message = 503, "provider_unavailable", "The LLM provider can't be reached"


class DatabaseUnavailable(ApiError):
    status, code, message = 503, "database_unavailable", "The database is unavailable"


class ProviderTimeout(ApiError):
    status, code, message = 504, "provider_timeout", "The LLM provider timed out"


# Flask-Limiter's scopes (ratelimit/limiter.py) as chatapp_rate_limited_total names them; a 429
# without one is the limit on failed authentications.
LIMITER_SCOPES = {"global": "requests", "llm": "chat"}


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
    """The SPEC's error body; `detail` repeats the message for the old app's clients."""
    error: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        error["details"] = details
    return {"success": False, "error": error, "detail": message}


def error_response(error: ApiError) -> Response:
    if isinstance(error, RateLimited):
        RATE_LIMITED.labels(error.limit).inc()
    response = jsonify(envelope(error.code, error.message, error.details))
    response.status_code = error.status
    response.headers.update(error.headers)
    return response


# The provider layer's typed errors, as the API shows them (SPEC sections 5 and 7).
PROVIDER_ERRORS: tuple[tuple[type[providers.ProviderError], type[ApiError]], ...] = (
    (providers.ModelNotFound, ModelNotFound),
    (providers.ProviderTimeout, ProviderTimeout),
    (providers.ProviderUnavailable, ProviderUnavailable),
)


def api_error(exc: Exception) -> ApiError:
    """`exc` as the API error the client gets, logged once.

    The one mapping: the error handlers use it for responses, and a stream for its final
    `error` event (its status is sent by then).
    """
    error = _mapped(exc)
    _log(exc, error)
    return error


def _mapped(exc: Exception) -> ApiError:
    """Any exception as an ApiError; unknown ones become a 500 that reveals nothing."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, providers.ProviderError):
        return _from_provider(exc)
    if isinstance(exc, StaleDataError | ObjectDeletedError):
        # A row this request had read was changed or deleted by another one meanwhile.
        return Conflict("Changed or deleted by another request meanwhile; retry")
    if isinstance(exc, OperationalError | PoolTimeout) or (
        isinstance(exc, DBAPIError) and exc.connection_invalidated
    ):
        return DatabaseUnavailable()
    return ApiError()


def _from_provider(exc: providers.ProviderError) -> ApiError:
    kind = next((api for provider, api in PROVIDER_ERRORS if isinstance(exc, provider)), None)
    # The provider's own Retry-After is passed on; we never make one up (SPEC section 13).
    headers = {"Retry-After": exc.retry_after} if exc.retry_after else None
    return (kind or ProviderFailed)(str(exc), headers=headers)


def _log(exc: Exception, error: ApiError) -> None:
    request_id = g.get("request_id", "-")
    if isinstance(exc, providers.ProviderError):
        log.warning("provider failed on %s (request %s): %s", request.path, request_id, exc)
    elif isinstance(error, DatabaseUnavailable):
        log.error("database unavailable (request %s): %s", request_id, exc)
    elif type(error) is ApiError:
        log.error("unhandled error (request %s)", request_id, exc_info=exc)


def _render_http_exception(exc: HTTPException) -> Response:
    status = exc.code or 500
    if status == 429:
        scope = getattr(getattr(exc, "limit", None), "scope", None)
        RATE_LIMITED.labels(LIMITER_SCOPES.get(scope or "", "auth_failures")).inc()
    code = HTTP_CODES.get(status, "bad_request" if status < 500 else "internal_error")
    message = exc.description if status != 413 else "The request body is too large"
    response = jsonify(envelope(code, str(message)))
    response.status_code = status
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def _render_exception(exc: Exception) -> Response:
    error = api_error(exc)
    release_session()  # a rollback that can't fail: the database may be what failed
    return error_response(error)


def init_app(app: Flask) -> None:
    """Render every error as the SPEC envelope: ours, werkzeug's, and any other exception."""
    app.register_error_handler(ApiError, error_response)
    app.register_error_handler(HTTPException, _render_http_exception)
    app.register_error_handler(Exception, _render_exception)
