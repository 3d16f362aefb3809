"""The limits through the API: per-user budgets, overrides, headers, 429s and exemptions."""

from __future__ import annotations

import time

import pytest

from chatapp.ratelimit.storage import ENGINE_KEY
from tests.conftest import bearer
from tests.ratelimit.conftest import storage_statements

PUBLIC_PATHS = ["/", "/health", "/openapi.json", "/docs"]
LIMIT_HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
BOTH_STRATEGIES = pytest.mark.parametrize(
    "app_overrides",
    [{"RATELIMIT_STRATEGY": "sliding-window-counter"}, {"RATELIMIT_STRATEGY": "fixed-window"}],
    indirect=True,
    ids=["sliding", "fixed"],
)


def statuses(client, headers: dict[str, str], count: int, path: str = "/me/keys") -> list[int]:
    return [client.get(path, headers=headers).status_code for _ in range(count)]


def test_authenticated_responses_carry_the_limit_headers(client, admin):
    response = client.get("/me/keys", headers=admin.headers)
    assert response.headers["X-RateLimit-Limit"] == "1000"
    assert response.headers["X-RateLimit-Remaining"] == "999"
    assert int(response.headers["X-RateLimit-Reset"]) >= time.time()
    assert "Retry-After" not in response.headers


def test_error_responses_to_authenticated_requests_carry_the_headers_too(client, admin):
    response = client.delete("/me/keys/ck_nope", headers=admin.headers)
    assert response.status_code == 404
    assert all(name in response.headers for name in LIMIT_HEADERS)


@BOTH_STRATEGIES
def test_a_user_gets_exactly_their_hourly_limit(client, make_user):
    bob = make_user("bob", rate_limit_per_hour=3)
    assert statuses(client, bob.headers, 5) == [200, 200, 200, 429, 429]


def test_the_hourly_limit_is_shared_by_every_endpoint(client, make_user):
    bob = make_user("bob", rate_limit_per_hour=3)
    assert client.get("/me", headers=bob.headers).status_code == 200
    assert client.get("/me/keys", headers=bob.headers).status_code == 200
    assert client.post("/me/keys", json={"name": "x"}, headers=bob.headers).status_code == 201
    assert client.get("/me", headers=bob.headers).status_code == 429


def test_a_breach_is_a_429_envelope_with_retry_after(client, make_user):
    bob = make_user("bob", rate_limit_per_hour=1)
    client.get("/me", headers=bob.headers)
    response = client.get("/me", headers=bob.headers)
    assert response.status_code == 429
    assert response.get_json() == {
        "success": False,
        "error": {"code": "rate_limited", "message": "Rate limit exceeded: 1/hour per user"},
        "detail": "Rate limit exceeded: 1/hour per user",
    }
    assert 0 < int(response.headers["Retry-After"]) <= 3600
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert response.headers["X-RateLimit-Limit"] == "1"


def test_users_are_isolated(client, make_user):
    alice = make_user("alice", rate_limit_per_hour=2)
    bob = make_user("bob", rate_limit_per_hour=2)
    assert statuses(client, alice.headers, 3) == [200, 200, 429]
    assert statuses(client, bob.headers, 2) == [200, 200]
    assert client.get("/me", headers=alice.headers).status_code == 429


@BOTH_STRATEGIES
def test_lowering_a_limit_applies_on_the_next_request(client, admin, make_user):
    bob = make_user("bob")  # on the default limit, with some usage in this window
    assert statuses(client, bob.headers, 3) == [200, 200, 200]
    patched = client.patch("/users/bob", json={"rate_limit_per_hour": 3}, headers=admin.headers)
    assert patched.status_code == 200
    response = client.get("/me/keys", headers=bob.headers)
    assert response.status_code == 429
    assert response.headers["X-RateLimit-Limit"] == "3"


def test_raising_a_limit_applies_on_the_next_request(client, admin, make_user):
    bob = make_user("bob", rate_limit_per_hour=2)
    assert statuses(client, bob.headers, 3) == [200, 200, 429]
    client.patch("/users/bob", json={"rate_limit_per_hour": 10}, headers=admin.headers)
    response = client.get("/me/keys", headers=bob.headers)
    assert response.status_code == 200
    assert response.headers["X-RateLimit-Limit"] == "10"


def test_clearing_an_override_goes_back_to_the_default(client, admin, make_user):
    bob = make_user("bob", rate_limit_per_hour=1)
    assert statuses(client, bob.headers, 2) == [200, 429]
    client.patch("/users/bob", json={"rate_limit_per_hour": None}, headers=admin.headers)
    assert client.get("/me/keys", headers=bob.headers).headers["X-RateLimit-Limit"] == "1000"


@pytest.mark.parametrize("path", [*PUBLIC_PATHS, "/apidoc/openapi.json", "/apidoc/swagger/"])
def test_public_routes_carry_no_limit_headers(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert not any(name in response.headers for name in (*LIMIT_HEADERS, "Retry-After"))


@pytest.mark.parametrize("path", [*PUBLIC_PATHS, "/apidoc/openapi.json"])
def test_exempt_routes_neither_count_nor_carry_headers_even_with_a_key(client, make_user, path):
    bob = make_user("bob", rate_limit_per_hour=2)
    responses = [client.get(path, headers=bob.headers) for _ in range(3)]
    assert all(response.status_code == 200 for response in responses)
    assert not any(name in responses[-1].headers for name in LIMIT_HEADERS)
    assert statuses(client, bob.headers, 2) == [200, 200]


def test_me_reports_the_limits_and_what_is_left(client, make_user):
    bob = make_user("bob", rate_limit_per_hour=5)
    client.get("/me/keys", headers=bob.headers)
    limits = client.get("/me", headers=bob.headers).get_json()["rate_limits"]
    assert limits["requests"]["limit"] == "5/hour"
    assert limits["requests"]["remaining"] == 3  # this request included
    assert time.time() - 1 <= limits["requests"]["reset_at"] <= time.time() + 3601
    assert limits["chat"] == {
        "limit": "30/minute",
        "remaining": 30,
        "reset_at": pytest.approx(time.time(), abs=5),
    }


@pytest.mark.parametrize("app_overrides", [{"RATELIMIT_ENABLED": False}], indirect=True)
def test_with_limiting_off_nothing_is_limited_or_reported(client, make_user):
    bob = make_user("bob", rate_limit_per_hour=1)
    assert statuses(client, bob.headers, 3) == [200, 200, 200]
    body = client.get("/me", headers=bob.headers)
    assert not any(name in body.headers for name in LIMIT_HEADERS)
    assert body.get_json()["rate_limits"]["requests"] == {
        "limit": "1/hour", "remaining": None, "reset_at": None,
    }  # fmt: skip


def test_the_limiter_costs_one_statement_per_request(app, client, admin, count_queries):
    client.get("/me/keys", headers=admin.headers)  # on PostgreSQL, prepares the upsert
    with storage_statements(app) as statements, count_queries() as app_queries:
        response = client.get("/me/keys", headers=admin.headers)
    assert "X-RateLimit-Remaining" in response.headers
    assert len(statements) == 1  # the upsert; the headers reuse the window it returned
    assert not [sql for sql in app_queries.statements if "rate_limits" in sql]


def test_a_new_storage_connection_prepares_the_upsert_again(app, client, make_user):
    bob = make_user("bob", rate_limit_per_hour=3)
    assert statuses(client, bob.headers, 2) == [200, 200]
    app.extensions[ENGINE_KEY].dispose()  # every storage connection is new from here on
    assert statuses(client, bob.headers, 2) == [200, 429]


def test_a_refused_request_still_gets_its_headers(app, client, make_user):
    bob = make_user("bob", rate_limit_per_hour=1)
    client.get("/me/keys", headers=bob.headers)
    with storage_statements(app) as statements:
        response = client.get("/me/keys", headers=bob.headers)
    assert response.status_code == 429
    assert response.headers["X-RateLimit-Remaining"] == "0"
    assert len(statements) == 2  # a refused upsert returns no row: the headers read it


def test_a_request_that_fails_authentication_counts_against_no_user(client, make_user):
    bob = make_user("bob", rate_limit_per_hour=2)
    for _ in range(3):
        client.get("/me", headers=bearer(bob.key[:-1] + ("A" if bob.key[-1] != "A" else "B")))
    assert statuses(client, bob.headers, 2) == [200, 200]


def test_refused_admin_calls_count_against_the_users_budget(client, make_user):
    bob = make_user("bob", rate_limit_per_hour=3)
    assert statuses(client, bob.headers, 4, path="/users") == [403, 403, 403, 429]
