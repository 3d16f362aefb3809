"""Security headers on every response, no-store on authenticated ones, CORS only when listed."""

from __future__ import annotations

import pytest

from tests.api.chatkit import parse_sse

PUBLIC_PATHS = ["/", "/health", "/openapi.json", "/docs", "/no-such-page"]
ORIGIN = "https://chat.example.com"


def assert_security_headers(response) -> None:
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"


@pytest.mark.parametrize("path", PUBLIC_PATHS)
def test_public_responses_carry_the_security_headers(client, path):
    response = client.get(path)
    assert_security_headers(response)
    assert "no-store" not in response.headers.get("Cache-Control", "")


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/me", None),
        ("GET", "/chat/history", None),
        ("GET", "/chat/history/missing", None),  # an error answer too
        ("POST", "/me/keys", {"name": "laptop"}),  # carries a clear key
        ("POST", "/users", {"username": "bob"}),  # so does this one
        ("POST", "/chat", {"message": "Hi"}),
    ],
)
def test_authenticated_responses_are_never_stored(client, admin, method, path, body):
    response = client.open(path, method=method, json=body, headers=admin.headers)
    assert response.status_code < 500
    assert response.headers["Cache-Control"] == "no-store"
    assert_security_headers(response)


def test_a_refused_key_is_not_stored_either(client):
    response = client.get("/me", headers={"Authorization": "Bearer ck_" + "x" * 40})
    assert response.status_code == 401
    assert response.headers["Cache-Control"] == "no-store"
    assert_security_headers(response)


def test_a_stream_is_never_stored(client, admin):
    response = client.post("/chat", json={"message": "Hi", "stream": True}, headers=admin.headers)
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert parse_sse(response.get_data(as_text=True))[-1][0] == "done"


def test_no_cors_headers_without_cors_origins(client, admin):
    response = client.get("/me", headers={**admin.headers, "Origin": ORIGIN})
    assert "Access-Control-Allow-Origin" not in response.headers
    preflight = client.options("/me", headers=preflight_headers(ORIGIN))
    assert "Access-Control-Allow-Origin" not in preflight.headers


def preflight_headers(origin: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }


class TestWithCorsOrigins:
    @pytest.fixture
    def app_overrides(self) -> dict:
        return {"CORS_ORIGINS": f"{ORIGIN}/, http://localhost:3000"}

    def test_a_listed_origins_preflight_is_answered_without_a_key(self, client):
        response = client.options("/chat", headers=preflight_headers(ORIGIN))
        assert response.status_code == 204
        assert response.headers["Access-Control-Allow-Origin"] == ORIGIN
        assert "POST" in response.headers["Access-Control-Allow-Methods"]
        allowed = response.headers["Access-Control-Allow-Headers"].lower()
        assert "authorization" in allowed and "content-type" in allowed
        assert "Origin" in response.headers["Vary"]

    def test_a_listed_origin_may_read_the_answer_and_our_headers(self, client, admin):
        response = client.get("/me", headers={**admin.headers, "Origin": "http://localhost:3000"})
        assert response.status_code == 200
        assert response.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
        assert "X-Request-ID" in response.headers["Access-Control-Expose-Headers"]
        assert "Access-Control-Allow-Credentials" not in response.headers

    @pytest.mark.parametrize(
        "origin", ["https://evil.example.com", "https://chat.example.com.evil.net", "null"]
    )
    def test_another_origin_gets_no_cors_headers(self, client, admin, origin):
        preflight = client.options("/chat", headers=preflight_headers(origin))
        assert "Access-Control-Allow-Origin" not in preflight.headers
        answer = client.get("/me", headers={**admin.headers, "Origin": origin})
        assert answer.status_code == 200
        assert "Access-Control-Allow-Origin" not in answer.headers
