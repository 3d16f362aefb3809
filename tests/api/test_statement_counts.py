"""How many SQL statements a request sends, on the app's engine and the limiter's together."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask
from sqlalchemy import event, insert, select

from chatapp.db_types import utcnow
from chatapp.extensions import db
from chatapp.models import SystemPrompt, User
from chatapp.ratelimit.storage import ENGINE_KEY
from tests.api.test_history_queries import add_chats

# The request pipeline's share, which other changes may move (change the number here):
AUTH_STATEMENTS = 1  # the key joined with its user (last_used_at is written once a minute)
LIMIT_STATEMENTS = 1  # the request's hits (hourly, and LLM on a turn), in one statement
# What the endpoints themselves send:
TURN_OWN_STATEMENTS = 3  # the context read, the chat's update, the messages' insert
USAGE_STATEMENTS = 1  # issue 14: the call's usage upsert (a user without quotas reads nothing)
TURN_BUDGET = 6  # issue 16's five, and issue 14's upsert: a turn on an existing chat


@contextmanager
def all_statements(app: Flask) -> Iterator[list[str]]:
    """Every statement the app's engine and the limiter's send while the block runs."""
    statements: list[str] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        statements.append(statement)

    with app.app_context():
        engines = {id(engine): engine for engine in (db.engine, app.extensions[ENGINE_KEY])}
    for engine in engines.values():
        event.listen(engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        for engine in engines.values():
            event.remove(engine, "before_cursor_execute", record)


def counted(app, client, user, method: str, path: str, **kwargs) -> list[str]:
    """The statements of one request, after another that writes the key's last_used_at."""
    assert client.get("/me", headers=user.headers).status_code == 200
    with all_statements(app) as statements:
        response = client.open(path, method=method, headers=user.headers, **kwargs)
    assert response.status_code in (200, 201), response.get_data(as_text=True)
    return statements


def add_prompts(app, username: str, count: int) -> None:
    now = utcnow()
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == username))
        rows = [
            {"user_id": user_id, "slug": f"p-{n}", "name": f"P {n}", "content": "x",
             "description": "", "created_at": now, "updated_at": now}
            for n in range(count)
        ]  # fmt: skip
        db.session.execute(insert(SystemPrompt), rows)
        db.session.commit()
        db.session.remove()


def turn(app, client, user, chat_id: str) -> list[str]:
    """A turn's statements, after a first turn has prepared the limiter's statement (on
    PostgreSQL it is PREPAREd once per connection)."""
    body = {"message": "hi", "chat_id": chat_id}
    assert client.post("/chat", json=body, headers=user.headers).status_code == 200
    return counted(app, client, user, "POST", "/chat", json=body)


def test_a_turn_on_an_existing_chat_sends_auth_limits_one_read_one_write_and_its_usage(
    app, client, admin
):
    add_chats(app, "admin", 1, 10, "c")
    statements = turn(app, client, admin, "c0")
    expected = AUTH_STATEMENTS + LIMIT_STATEMENTS + TURN_OWN_STATEMENTS + USAGE_STATEMENTS
    assert len(statements) == expected, "\n".join(statements)


def test_a_turn_on_an_existing_chat_fits_the_budget_of_six_statements(app, client, admin):
    add_chats(app, "admin", 1, 10, "c")
    assert len(turn(app, client, admin, "c0")) <= TURN_BUDGET


def test_a_turn_sends_as_many_statements_for_1000_messages_as_for_10(app, client, admin):
    add_chats(app, "admin", 1, 10, "short")
    add_chats(app, "admin", 1, 1000, "long")
    assert len(turn(app, client, admin, "short0")) == len(turn(app, client, admin, "long0"))


def test_the_chat_list_is_one_statement_for_any_number_of_chats_and_messages(
    app, client, make_user
):
    few, many, long = make_user("few"), make_user("many"), make_user("long")
    add_chats(app, "few", 3, 2, "c")
    add_chats(app, "many", 500, 2, "c")
    add_chats(app, "long", 3, 500, "c")
    for user in (few, many, long):
        for path in ("/chat/history?limit=500", "/chat/history?q=m1"):
            statements = counted(app, client, user, "GET", path)
            assert len(statements) == AUTH_STATEMENTS + LIMIT_STATEMENTS + 1, path


def test_the_prompt_list_is_one_statement_for_any_library(app, client, make_user):
    small, large = make_user("small"), make_user("large")
    add_prompts(app, "large", 500)
    for user in (small, large):
        statements = counted(app, client, user, "GET", "/system-prompts")
        assert len(statements) == AUTH_STATEMENTS + LIMIT_STATEMENTS + 1


def test_creating_a_prompt_is_one_lookup_and_one_insert_for_any_library(app, client, make_user):
    small, large = make_user("small"), make_user("large")
    add_prompts(app, "large", 500)
    for user in (small, large):
        client.post(
            "/system-prompts", json={"name": "Writer", "content": "x"}, headers=user.headers
        )
        # "Writer!" is slug writer-2: the lookup finds writer taken in the same statement.
        body = {"name": "Writer!", "content": "x"}
        statements = counted(app, client, user, "POST", "/system-prompts", json=body)
        assert len(statements) == AUTH_STATEMENTS + LIMIT_STATEMENTS + 2, "\n".join(statements)


def _autocommit_by_statement(app, client, user, method: str, path: str, **kwargs) -> list[bool]:
    """For each statement of the request on the app's engine: did it run outside a
    transaction (the driver in autocommit mode, so no BEGIN and no ROLLBACK round trips)?"""
    modes: list[bool] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        dbapi = conn.connection.dbapi_connection
        modes.append(dbapi.isolation_level is None if conn.dialect.name == "sqlite"
                     else dbapi.autocommit)  # fmt: skip

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.open(path, method=method, headers=user.headers, **kwargs)
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert response.status_code in (200, 201), response.get_data(as_text=True)
    return modes


def test_reads_run_outside_a_transaction_and_writes_inside_one(app, client, admin):
    add_chats(app, "admin", 3, 2, "c")
    read = _autocommit_by_statement(app, client, admin, "GET", "/chat/history")
    assert read and all(read)
    body = {"message": "hi", "chat_id": "c0"}
    written = _autocommit_by_statement(app, client, admin, "POST", "/chat", json=body)
    assert written and not any(written)  # the same pooled connection, back in transactions
    assert all(_autocommit_by_statement(app, client, admin, "GET", "/system-prompts"))
