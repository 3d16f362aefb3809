"""Users and keys: the admin API, self-service keys, and keys never stored in clear."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, select, text

from chatapp.extensions import db
from chatapp.models import ApiKey
from tests.conftest import bearer


def test_admin_creates_a_user_whose_key_works(client, admin):
    response = client.post(
        "/users", json={"username": "bob", "rate_limit_per_hour": 50}, headers=admin.headers
    )
    assert response.status_code == 201
    body = response.get_json()
    assert body["success"] is True
    assert body["user"]["username"] == "bob"
    assert body["user"]["rate_limit_per_hour"] == 50
    assert body["api_key"].startswith("ck_") and len(body["api_key"]) >= 35
    me = client.get("/me", headers=bearer(body["api_key"])).get_json()
    assert me["username"] == "bob" and me["is_admin"] is False


def test_duplicate_username_is_409(client, admin):
    client.post("/users", json={"username": "bob"}, headers=admin.headers)
    response = client.post("/users", json={"username": "bob"}, headers=admin.headers)
    assert response.status_code == 409
    assert response.get_json()["error"]["code"] == "conflict"


@pytest.mark.parametrize(
    "username", ["", "has space", "x" * 65, "semi;colon", "../etc", "ünïcode", "a'--", 42, None]
)
def test_invalid_username_is_422_and_creates_nothing(client, admin, username):
    response = client.post("/users", json={"username": username}, headers=admin.headers)
    assert response.status_code == 422
    assert response.get_json()["error"]["details"][0]["field"] == "username"
    assert len(client.get("/users", headers=admin.headers).get_json()["users"]) == 1


def test_admin_lists_users(client, admin, make_user):
    make_user("bob")
    names = [u["username"] for u in client.get("/users", headers=admin.headers).get_json()["users"]]
    assert names == ["admin", "bob"]


def test_admin_sets_and_clears_a_rate_limit_override(client, admin, make_user):
    make_user("bob")
    patched = client.patch("/users/bob", json={"rate_limit_per_hour": 7}, headers=admin.headers)
    assert patched.get_json()["user"]["rate_limit_per_hour"] == 7
    cleared = client.patch("/users/bob", json={"rate_limit_per_hour": None}, headers=admin.headers)
    assert cleared.get_json()["user"]["rate_limit_per_hour"] is None


@pytest.mark.parametrize(
    "body",
    [{}, {"is_active": None}, {"is_admin": "yes"}, {"rate_limit_per_hour": 0}, {"nope": 1}],
)
def test_invalid_user_patch_is_422(client, admin, make_user, body):
    make_user("bob")
    response = client.patch("/users/bob", json=body, headers=admin.headers)
    assert response.status_code == 422


def test_patching_an_unknown_user_is_404(client, admin):
    response = client.patch("/users/ghost", json={"is_admin": True}, headers=admin.headers)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "user_not_found"


def test_admin_cannot_lock_themselves_out(client, admin):
    assert (
        client.patch("/users/admin", json={"is_active": False}, headers=admin.headers).status_code
        == 409
    )
    assert client.delete("/users/admin", headers=admin.headers).status_code == 409


def test_deleting_a_user_removes_their_keys_and_prompts(app, client, admin, make_user):
    bob = make_user("bob")
    assert client.delete("/users/bob", headers=admin.headers).status_code == 200
    assert client.get("/me", headers=bob.headers).status_code == 401
    with app.app_context():
        # Only admin's rows remain: one key and the three built-in prompts.
        for table, remaining in (("api_keys", 1), ("system_prompts", 3)):
            rows = db.session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
            assert rows == remaining


def test_user_creates_lists_and_revokes_own_keys(client, make_user):
    bob = make_user("bob")
    created = client.post("/me/keys", json={"name": "laptop"}, headers=bob.headers)
    assert created.status_code == 201
    new_key = created.get_json()["api_key"]
    prefix = created.get_json()["key"]["prefix"]
    assert new_key.startswith(prefix)
    listed = client.get("/me/keys", headers=bearer(new_key)).get_json()["keys"]
    assert [k["name"] for k in listed] == ["default", "laptop"]
    assert all("api_key" not in k and "key_hash" not in k for k in listed)
    assert client.delete(f"/me/keys/{prefix}", headers=bob.headers).status_code == 200
    assert client.get("/me", headers=bearer(new_key)).status_code == 401
    assert client.get("/me", headers=bob.headers).status_code == 200


@pytest.mark.parametrize("name", ["", "   ", "x" * 101, "lap\x00top", 7])
def test_an_invalid_key_name_is_422_and_creates_nothing(client, make_user, name):
    bob = make_user("bob")
    response = client.post("/me/keys", json={"name": name}, headers=bob.headers)
    assert response.status_code == 422
    assert response.get_json()["error"]["details"][0]["field"] == "name"
    assert len(client.get("/me/keys", headers=bob.headers).get_json()["keys"]) == 1


def test_a_user_cannot_revoke_another_users_key(client, admin, make_user):
    bob = make_user("bob")
    admin_prefix = client.get("/me/keys", headers=admin.headers).get_json()["keys"][0]["prefix"]
    response = client.delete(f"/me/keys/{admin_prefix}", headers=bob.headers)
    assert response.status_code == 404
    assert client.get("/me", headers=admin.headers).status_code == 200


def test_no_clear_key_is_stored_anywhere_in_the_database(app, client, admin, make_user):
    bob = make_user("bob")
    extra = client.post("/me/keys", json={"name": "x"}, headers=bob.headers).get_json()["api_key"]
    secrets_to_find = [bob.key, extra, admin.key]
    with app.app_context():
        dump = _dump_every_text_value()
        stored_hashes = set(db.session.scalars(select(ApiKey.key_hash)))
    for secret in secrets_to_find:
        assert secret not in dump
        assert secret[12:] not in dump  # not even the part after the display prefix
    assert len(stored_hashes) == 3 and all(len(h) == 64 for h in stored_hashes)


def _dump_every_text_value() -> str:
    inspector = inspect(db.engine)
    parts = []
    for table in inspector.get_table_names():
        for row in db.session.execute(text(f"SELECT * FROM {table}")):
            parts.extend(str(value) for value in row)
    return "\n".join(parts)


def test_me_reports_limits(client, admin):
    body = client.get("/me", headers=admin.headers).get_json()
    assert body["success"] is True
    assert body["is_admin"] is True
    assert body["rate_limits"]["requests"]["limit"] == "1000/hour"
    assert body["rate_limits"]["chat"]["limit"] == "30/minute"


def test_listing_keys_costs_the_same_queries_for_1_or_20_keys(client, make_user, count_queries):
    bob = make_user("bob")
    client.get("/me/keys", headers=bob.headers)  # settles last_used_at
    with count_queries() as few:
        client.get("/me/keys", headers=bob.headers)
    for index in range(19):
        client.post("/me/keys", json={"name": f"k{index}"}, headers=bob.headers)
    client.get("/me/keys", headers=bob.headers)
    with count_queries() as many:
        client.get("/me/keys", headers=bob.headers)
    assert many.count == few.count


def test_listing_users_costs_the_same_queries_for_2_or_30_users(
    client, admin, make_user, count_queries
):
    make_user("u0")
    client.get("/users", headers=admin.headers)
    with count_queries() as few:
        client.get("/users", headers=admin.headers)
    for index in range(1, 29):
        make_user(f"u{index}")
    with count_queries() as many:
        client.get("/users", headers=admin.headers)
    assert many.count == few.count
