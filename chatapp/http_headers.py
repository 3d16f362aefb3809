"""Headers every response carries (no sniffing, no framing, no caching of what a key unlocks),
and CORS for the origins CORS_ORIGINS lists, and for no other."""

from __future__ import annotations

from flask import Flask, Response, current_app, g, request

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
# What a browser page may send and read: our own headers, not only the CORS-safelisted ones.
CORS_ALLOW_METHODS = "GET, POST, PUT, PATCH, DELETE"
CORS_ALLOW_HEADERS = "Authorization, Content-Type, Accept, X-Request-ID"
CORS_EXPOSE_HEADERS = (
    "X-Request-ID, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After, "
    "Content-Disposition"
)
CORS_MAX_AGE = "600"  # seconds a browser may keep a preflight's answer


def allowed_origins(setting: str) -> frozenset[str]:
    """CORS_ORIGINS: origins separated by commas or spaces, e.g. `https://chat.example.com`."""
    return frozenset(origin.rstrip("/") for origin in setting.replace(",", " ").split())


def cors_origin() -> str | None:
    """The request's Origin if CORS_ORIGINS lists it, else None."""
    origin = request.headers.get("Origin")
    return origin if origin in current_app.extensions["cors_origins"] else None


def answer_preflight() -> Response | None:
    """A listed origin's preflight gets its 204 here, before any key is asked for."""
    if request.method != "OPTIONS" or "Access-Control-Request-Method" not in request.headers:
        return None
    if cors_origin() is None:
        return None  # Flask's own OPTIONS answer, with no CORS header: the browser refuses
    response = Response(status=204)
    response.headers["Access-Control-Allow-Methods"] = CORS_ALLOW_METHODS
    response.headers["Access-Control-Allow-Headers"] = CORS_ALLOW_HEADERS
    response.headers["Access-Control-Max-Age"] = CORS_MAX_AGE
    return response


def add_headers(response: Response) -> Response:
    response.headers.update(SECURITY_HEADERS)
    if "Authorization" in request.headers or g.get("user") is not None:
        # Per-user data, and sometimes a clear key: no cache, shared or private, may keep it.
        response.headers["Cache-Control"] = "no-store"
    origin = cors_origin()
    if origin is not None:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Expose-Headers"] = CORS_EXPOSE_HEADERS
    if current_app.extensions["cors_origins"]:
        response.vary.add("Origin")  # the answer differs by origin: caches must key on it
    return response


def init_app(app: Flask) -> None:
    app.extensions["cors_origins"] = allowed_origins(app.config["CORS_ORIGINS"])
    app.before_request(answer_preflight)
    app.after_request(add_headers)
