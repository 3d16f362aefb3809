"""Every malformed request gets its 4xx envelope, never a 500; errors carry a request ID."""

from __future__ import annotations

import logging

import pytest

from chatapp.auth import public


def assert_envelope(response, status: int, code: str) -> None:
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert body["success"] is False
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert body["detail"] == body["error"]["message"]  # what the old app's clients show


BAD_BODIES = [
    ("text/plain", b"hello", 415, "unsupported_media_type"),
    ("application/x-www-form-urlencoded", b"username=bob", 415, "unsupported_media_type"),
    ("application/json", b"{not json", 400, "bad_request"),
    ("application/json", b"[1, 2]", 400, "bad_request"),
    ("application/json", b'"just a string"', 400, "bad_request"),
    ("application/json", b"null", 400, "bad_request"),
    ("application/json", b"\xff\xfe\x00", 400, "bad_request"),
    ("application/json", b"{}", 422, "validation_error"),
    ("application/json", b'{"username": ["list"]}', 422, "validation_error"),
    ("application/json", b'{"username": "bob", "is_admin": "true"}', 422, "validation_error"),
    ("application/json", b'{"username": "x\'; DROP TABLE users; --"}', 422, "validation_error"),
    ("application/json", b'{"username": "\\u0000"}', 422, "validation_error"),
]


@pytest.mark.parametrize(("content_type", "data", "status", "code"), BAD_BODIES)
def test_bad_bodies_get_their_4xx_envelope(client, admin, content_type, data, status, code):
    response = client.post("/users", data=data, content_type=content_type, headers=admin.headers)
    assert_envelope(response, status, code)
    assert len(client.get("/users", headers=admin.headers).get_json()["users"]) == 1


def test_validation_errors_name_each_field(client, admin):
    response = client.post(
        "/users", json={"username": "", "rate_limit_per_hour": -1}, headers=admin.headers
    )
    assert_envelope(response, 422, "validation_error")
    fields = {detail["field"] for detail in response.get_json()["error"]["details"]}
    assert fields == {"username", "rate_limit_per_hour"}


def test_unknown_fields_are_rejected(client, admin):
    response = client.post("/users", json={"username": "bob", "admin": True}, headers=admin.headers)
    assert_envelope(response, 422, "validation_error")


def test_a_body_over_max_content_length_is_413(client, admin):
    huge = b'{"username": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    response = client.post(
        "/users", data=huge, content_type="application/json", headers=admin.headers
    )
    assert_envelope(response, 413, "payload_too_large")


def test_unknown_path_is_404_envelope(client, admin):
    assert_envelope(client.get("/no/such/thing", headers=admin.headers), 404, "not_found")


def test_wrong_method_is_405_envelope(client, admin):
    assert_envelope(client.put("/me", json={}, headers=admin.headers), 405, "method_not_allowed")


def test_path_traversal_in_a_path_parameter_is_a_plain_404(client, admin):
    response = client.patch(
        "/users/..%2F..%2Fetc%2Fpasswd", json={"is_admin": True}, headers=admin.headers
    )
    assert response.status_code == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/system-prompts/a%00b"),
        ("POST", "/system-prompts/%00/activate"),
        ("DELETE", "/me/keys/ck_%00"),
        ("DELETE", "/users/%00"),
        ("GET", "/chat/history/%00"),
    ],
)
def test_a_nul_in_a_path_parameter_is_422_on_both_databases(client, admin, method, path):
    # PostgreSQL refuses NUL in any string it is sent: this was a 500 there.
    response = client.open(path, method=method, headers=admin.headers)
    assert_envelope(response, 422, "validation_error")


def test_an_unexpected_error_is_500_without_internals(app, client, caplog):
    @public
    def explode():
        raise RuntimeError("secret internals: SELECT * FROM users")

    app.add_url_rule("/explode", "explode", explode)
    logger = logging.getLogger("chatapp")  # it doesn't propagate, so listen on it directly
    logger.addHandler(caplog.handler)
    try:
        response = client.get("/explode", headers={"X-Request-ID": "trace-me-42"})
    finally:
        logger.removeHandler(caplog.handler)
    assert_envelope(response, 500, "internal_error")
    assert "trace-me-42" in caplog.text and "secret internals" in caplog.text
    assert "secret" not in response.get_data(as_text=True)
    assert "SELECT" not in response.get_data(as_text=True)
    assert response.headers["X-Request-ID"] == "trace-me-42"


def test_every_response_carries_a_request_id(client, admin):
    generated = client.get("/me", headers=admin.headers).headers["X-Request-ID"]
    assert len(generated) >= 16
    echoed = client.get("/me", headers={**admin.headers, "X-Request-ID": "abc-123"})
    assert echoed.headers["X-Request-ID"] == "abc-123"
    assert client.get("/nope").headers["X-Request-ID"]
    assert client.get("/me").headers["X-Request-ID"]


def test_an_unsafe_client_request_id_is_replaced(client):
    response = client.get("/health", headers={"X-Request-ID": "bad id\twith spaces"})
    assert response.headers["X-Request-ID"] != "bad id\twith spaces"
