"""On PostgreSQL a request's key lookup and its rate-limit hits are one statement (issue 16).

The statement runs on the limiter's connection: it finds the key's owner and writes the owner's
hits only if the owner is active. Elsewhere (SQLite, limiting off, another storage) and when that
statement fails, the key is looked up on the app's connection and the hits go on their own.
"""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, func, select, update

from chatapp.extensions import db
from chatapp.models import RateLimit, User
from chatapp.ratelimit.storage import ENGINE_KEY
from tests.conftest import bearer, dialect_of
from tests.ratelimit.conftest import storage_statements

DEAD_DATABASE = "postgresql+psycopg2://nobody@127.0.0.1:9/none?connect_timeout=1"


def users_counted(app) -> int:
    """The sum of the users' counters (a failed authentication counts against its client IP)."""
    with app.app_context():
        counts = select(func.coalesce(func.sum(RateLimit.count), 0))
        total = db.session.scalar(counts.where(RateLimit.user_key.like("user:%")))
        db.session.remove()
    return int(total)


def key_lookups(statements: list[str]) -> list[str]:
    return [sql for sql in statements if "api_keys" in sql]


def test_the_key_and_the_hits_are_one_statement_on_postgresql_two_elsewhere(
    app, client, admin, count_queries
):
    client.get("/system-prompts", headers=admin.headers)  # prepares the limiter's statements
    with storage_statements(app) as limiter, count_queries() as app_queries:
        response = client.get("/system-prompts", headers=admin.headers)
    assert response.status_code == 200
    assert response.headers["X-RateLimit-Remaining"] == "998"
    if dialect_of(app) == "postgresql":
        assert len(limiter) == 1 and limiter[0].startswith("EXECUTE chatapp_owner_hits_u(")
        assert not key_lookups(app_queries.statements)
    else:
        assert len(limiter) == 1 and len(key_lookups(app_queries.statements)) == 1


def test_a_turn_sends_its_llm_hit_in_the_same_statement(app, client, admin):
    body = {"message": "hi", "chat_id": "c1"}
    assert client.post("/chat", json=body, headers=admin.headers).status_code == 200
    with storage_statements(app) as limiter:
        assert client.post("/chat", json=body, headers=admin.headers).status_code == 200
    if dialect_of(app) == "postgresql":
        assert [sql.partition("(")[0] for sql in limiter] == ["EXECUTE chatapp_owner_hits_uf"]


@pytest.mark.parametrize("wrong", ["unknown", "revoked"])
def test_a_key_that_finds_no_owner_writes_no_hit(app, client, make_user, wrong):
    bob = make_user("bob")
    client.get("/me", headers=bob.headers)
    if wrong == "revoked":
        assert client.delete(f"/me/keys/{bob.key[:12]}", headers=bob.headers).status_code == 200
    before = users_counted(app)
    key = bob.key if wrong == "revoked" else bob.key[:-1] + ("A" if bob.key[-1] != "A" else "B")
    response = client.get("/me", headers=bearer(key))
    assert response.status_code == 401
    assert response.get_json()["error"]["message"] == "Unknown or revoked API key"
    assert users_counted(app) == before


def test_a_deactivated_users_request_writes_no_hit(app, client, make_user):
    bob = make_user("bob")
    client.get("/me", headers=bob.headers)
    with app.app_context():
        db.session.execute(update(User).where(User.username == "bob").values(is_active=False))
        db.session.commit()
        db.session.remove()
    before = users_counted(app)
    response = client.get("/me", headers=bob.headers)
    assert response.status_code == 401
    assert response.get_json()["error"]["message"] == "This user is deactivated"
    assert users_counted(app) == before


def test_a_users_own_hourly_limit_is_the_one_counted(client, make_user):
    bob = make_user("bob", rate_limit_per_hour=2)
    codes = [client.get("/me/keys", headers=bob.headers) for _ in range(3)]
    assert [response.status_code for response in codes] == [200, 200, 429]
    assert codes[0].headers["X-RateLimit-Limit"] == "2"


def test_the_user_found_with_the_hits_can_be_changed_by_the_view(client, make_user):
    bob = make_user("bob")
    created = client.post(
        "/system-prompts", json={"name": "Writer", "content": "x"}, headers=bob.headers
    )
    assert created.status_code == 200
    prompt_id = created.get_json()["prompt_id"]
    activated = client.post(f"/system-prompts/{prompt_id}/activate", headers=bob.headers)
    assert activated.status_code == 200
    prompts = client.get("/system-prompts", headers=bob.headers).get_json()["prompts"]
    assert prompts[prompt_id]["is_active"] is True


def test_when_the_limiters_statement_fails_the_key_is_looked_up_as_usual(
    app, client, admin, log_lines
):
    app.extensions[ENGINE_KEY] = create_engine(DEAD_DATABASE)
    response = client.get("/me", headers=admin.headers)
    assert response.status_code == 200
    assert response.get_json()["username"] == "admin"
    assert "rate limit storage failed" in log_lines.text
