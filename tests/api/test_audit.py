"""The audit log (SPEC section 16): every admin and key action, in its transaction, never a key."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from chatapp.extensions import db
from chatapp.models import ApiKey, AuditEntry
from tests.conftest import ADMIN_KEY


def entries(client, admin, **query) -> list[dict]:
    response = client.get("/audit", query_string=query, headers=admin.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["entries"]


def every_row(app) -> str:
    """All audit rows, as one text to search."""
    with app.app_context():
        rows = db.session.scalars(select(AuditEntry)).all()
        text = json.dumps(
            [[r.actor, r.action, r.target, r.details, r.request_id] for r in rows], default=str
        )
        db.session.remove()
    return text


def every_secret(app, *clear_keys: str) -> list[str]:
    with app.app_context():
        hashes = list(db.session.scalars(select(ApiKey.key_hash)))
        db.session.remove()
    return [*clear_keys, *hashes]


def test_every_admin_and_key_action_from_the_api_is_audited(app, client, admin):
    created = client.post(
        "/users", json={"username": "bob", "token_quota_per_day": 10}, headers=admin.headers
    )
    bob_key = created.get_json()["api_key"]
    patched = client.patch(
        "/users/bob",
        json={"is_admin": True, "rate_limit_per_hour": 5, "token_quota_per_month": 99},
        headers=admin.headers,
    )
    bob = {"Authorization": f"Bearer {bob_key}"}
    new_key = client.post("/me/keys", json={"name": "laptop"}, headers=bob).get_json()
    client.delete(f"/me/keys/{new_key['key']['prefix']}", headers=bob)
    client.delete("/users/bob", headers=admin.headers)

    listed = entries(client, admin)
    assert [(e["action"], e["actor"], e["target"]) for e in reversed(listed)][-6:] == [
        ("user.created", "admin", "user:bob"),
        ("user.updated", "admin", "user:bob"),
        ("user.limits_changed", "admin", "user:bob"),
        ("key.created", "bob", f"key:{new_key['key']['prefix']}"),
        ("key.revoked", "bob", f"key:{new_key['key']['prefix']}"),
        ("user.deleted", "admin", "user:bob"),
    ]
    limits = next(e for e in listed if e["action"] == "user.limits_changed")
    assert limits["details"] == {
        "rate_limit_per_hour": {"from": None, "to": 5},
        "token_quota_per_month": {"from": None, "to": 99},
    }
    assert limits["request_id"] == patched.headers["X-Request-ID"]
    text = every_row(app)
    for secret in every_secret(app, bob_key, new_key["api_key"], ADMIN_KEY):
        assert secret not in text


def test_a_refused_change_leaves_no_audit_entry(client, admin, make_user):
    make_user("bob")
    before = len(entries(client, admin))
    assert client.post("/users", json={"username": "bob"}, headers=admin.headers).status_code == 409
    assert (
        client.patch("/users/ghost", json={"is_admin": True}, headers=admin.headers).status_code
        == 404
    )
    assert client.delete("/users/admin", headers=admin.headers).status_code == 409
    assert len(entries(client, admin)) == before


def test_an_unchanged_value_is_not_reported_as_a_change(client, admin, make_user):
    make_user("bob")
    client.patch("/users/bob", json={"is_active": True}, headers=admin.headers)
    assert [e["action"] for e in entries(client, admin, actor="admin")] == []


def test_the_log_filters_by_action_and_actor_and_pages(client, admin, make_user):
    for name in ("a1", "a2", "a3"):
        client.post("/users", json={"username": name}, headers=admin.headers)
    make_user("bob")  # by "system", as the bootstrap is
    created = entries(client, admin, action="user.created", actor="admin")
    assert [e["target"] for e in created] == ["user:a3", "user:a2", "user:a1"]
    page = client.get(
        "/audit?action=user.created&actor=admin&limit=1&offset=1", headers=admin.headers
    )
    assert [e["target"] for e in page.get_json()["entries"]] == ["user:a2"]
    assert page.get_json()["total"] == 3


def test_only_admins_read_the_log(client, make_user):
    bob = make_user("bob")
    assert client.get("/audit", headers=bob.headers).status_code == 403


@pytest.mark.parametrize("query", ["limit=0", "limit=501", "offset=-1", "action=", "colour=red"])
def test_bad_filters_are_422(client, admin, query):
    assert client.get(f"/audit?{query}", headers=admin.headers).status_code == 422


def test_admins_list_and_revoke_a_users_keys_audited(client, admin, make_user):
    bob = make_user("bob")
    keys = client.get("/users/bob/keys", headers=admin.headers).get_json()["keys"]
    prefix = keys[0]["prefix"]
    response = client.delete(f"/users/bob/keys/{prefix}", headers=admin.headers)
    assert response.status_code == 200
    assert client.get("/me", headers=bob.headers).status_code == 401
    revoked = entries(client, admin, action="key.revoked")[0]
    assert (revoked["actor"], revoked["target"]) == ("admin", f"key:{prefix}")
    assert revoked["details"] == {"user": "bob", "name": "default"}


def test_an_admin_cannot_revoke_a_key_through_another_user(client, admin, make_user):
    make_user("bob")
    make_user("carol")
    prefix = client.get("/users/bob/keys", headers=admin.headers).get_json()["keys"][0]["prefix"]
    assert client.delete(f"/users/carol/keys/{prefix}", headers=admin.headers).status_code == 404
    assert client.get("/users/ghost/keys", headers=admin.headers).status_code == 404
