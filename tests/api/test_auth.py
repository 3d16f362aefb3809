"""Authentication: strict Bearer parsing, unknown or revoked keys, inactive users, admins."""

from __future__ import annotations

from datetime import timedelta

import pytest

from chatapp.db_types import utcnow
from chatapp.services import keys
from tests.conftest import bearer, dialect_of
from tests.ratelimit.conftest import storage_statements

MALFORMED_HEADERS = [
    "",
    "Bearer",
    "Bearer ",
    "bearer ck_" + "a" * 43,
    "Basic dXNlcjpwYXNz",
    "Bearer  ck_" + "a" * 43,
    "Bearer ck_" + "a" * 43 + " extra",
    "Bearer ck_short",
    "Bearer xx_" + "a" * 43,
    "Bearer ck_" + "a" * 40 + "!!!",
    "Token ck_" + "a" * 43,
]


def assert_unauthorized(response) -> None:
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    body = response.get_json()
    assert body["success"] is False
    assert body["error"]["code"] == "unauthorized"


def test_missing_authorization_header_is_401(client):
    assert_unauthorized(client.get("/me"))


@pytest.mark.parametrize("header", MALFORMED_HEADERS)
def test_malformed_authorization_header_is_401(client, header):
    assert_unauthorized(client.get("/me", headers={"Authorization": header}))


def test_unknown_key_is_401(client):
    assert_unauthorized(client.get("/me", headers=bearer("ck_" + "b" * 43)))


def test_valid_key_authenticates(client, admin):
    response = client.get("/me", headers=admin.headers)
    assert response.status_code == 200
    assert response.get_json()["username"] == "admin"


def test_revoked_key_is_rejected_on_the_very_next_request(client, make_user):
    bob = make_user("bob")
    prefix = client.get("/me/keys", headers=bob.headers).get_json()["keys"][0]["prefix"]
    assert client.delete(f"/me/keys/{prefix}", headers=bob.headers).status_code == 200
    assert_unauthorized(client.get("/me", headers=bob.headers))


def test_deactivated_user_is_rejected_on_the_very_next_request(client, admin, make_user):
    bob = make_user("bob")
    assert client.get("/me", headers=bob.headers).status_code == 200
    response = client.patch("/users/bob", json={"is_active": False}, headers=admin.headers)
    assert response.status_code == 200
    assert_unauthorized(client.get("/me", headers=bob.headers))


def test_reactivated_user_can_authenticate_again(client, admin, make_user):
    bob = make_user("bob")
    client.patch("/users/bob", json={"is_active": False}, headers=admin.headers)
    client.patch("/users/bob", json={"is_active": True}, headers=admin.headers)
    assert client.get("/me", headers=bob.headers).status_code == 200


ADMIN_ROUTES = [
    ("get", "/users", None),
    ("post", "/users", {"username": "carol"}),
    ("patch", "/users/admin", {"is_admin": False}),
    ("delete", "/users/admin", None),
]


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES)
def test_non_admin_gets_403_on_admin_routes(client, make_user, method, path, body):
    bob = make_user("bob")
    response = getattr(client, method)(path, json=body, headers=bob.headers)
    assert response.status_code == 403
    assert response.get_json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize(("method", "path", "body"), ADMIN_ROUTES)
def test_admin_routes_need_a_key_before_anything_else(client, method, path, body):
    assert_unauthorized(getattr(client, method)(path, json=body))


@pytest.mark.parametrize("path", ["/", "/health", "/openapi.json", "/docs"])
def test_public_routes_need_no_key(client, path):
    assert client.get(path).status_code == 200


def writes_of_last_used_at(statements: list[str]) -> int:
    return sum(1 for sql in statements if sql.startswith("UPDATE api_keys"))


def test_a_request_reads_its_key_and_user_in_one_statement(app, client, make_user, count_queries):
    bob = make_user("bob")
    client.get("/me", headers=bob.headers)  # the key's first use writes last_used_at
    with count_queries() as queries, storage_statements(app) as limiter:
        assert client.get("/me", headers=bob.headers).status_code == 200
    if dialect_of(app) == "postgresql":  # found by the limiter's statement, with the hits
        assert queries.statements == [] and limiter[0].startswith("EXECUTE chatapp_owner_hits")
        return
    assert len(queries.statements) == 1  # GET /me reads nothing else from the app's tables
    assert "api_keys" in queries.statements[0] and "users" in queries.statements[0]


def test_listing_keys_costs_the_same_statements_with_1_or_20_keys(
    app, client, make_user, count_queries
):
    bob = make_user("bob")
    counts = []
    for total in (1, 20):
        while len(client.get("/me/keys", headers=bob.headers).get_json()["keys"]) < total:
            client.post("/me/keys", json={"name": "k"}, headers=bob.headers)
        with count_queries() as queries, storage_statements(app) as limiter:
            client.get("/me/keys", headers=bob.headers)
        counts.append((queries.count, len(limiter)))
    # the key and its user, the list; one limiter hit (on PostgreSQL, finding the key too)
    key_statements = 0 if dialect_of(app) == "postgresql" else 1
    assert counts == [(key_statements + 1, 1)] * 2


def test_last_used_at_is_written_once_a_minute_however_many_requests(
    client, make_user, count_queries, monkeypatch
):
    bob = make_user("bob")
    with count_queries() as first_minute:
        for _ in range(5):
            assert client.get("/me", headers=bob.headers).status_code == 200
    later = utcnow() + timedelta(seconds=61)
    monkeypatch.setattr(keys, "utcnow", lambda: later)
    with count_queries() as next_minute:
        for _ in range(5):
            assert client.get("/me", headers=bob.headers).status_code == 200
    assert writes_of_last_used_at(first_minute.statements) == 1
    assert writes_of_last_used_at(next_minute.statements) == 1
    listed = client.get("/me/keys", headers=bob.headers).get_json()["keys"][0]
    assert listed["last_used_at"].startswith(later.strftime("%Y-%m-%dT%H:%M:%S"))
