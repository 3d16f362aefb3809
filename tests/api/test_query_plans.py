"""Reads that walk a chat's tree keep to that chat on PostgreSQL, whatever the table's size.

PostgreSQL expects a recursive CTE to yield about a hundred rows. Joined with `messages`, that
estimate made it hash-join a scan of the whole table, until the table held some 30,000
messages: each turn, chat read and branch switch then cost time in proportion to everyone's
messages (1.2-2 ms at 10,000, against 0.06-0.09 ms now).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event, text

from chatapp.extensions import db
from tests.api.chatkit import send
from tests.api.test_history_queries import add_chats

WHOLE_TABLE_SCAN = "Seq Scan on messages"


@pytest.fixture
def many_messages(app) -> None:
    """10,000 messages in 40 chats, and the planner's statistics up to date."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("a PostgreSQL plan: SQLite has no hash join, it looks keys up")
    add_chats(app, "admin", 40, 250, "bulk")
    with app.app_context():
        db.session.execute(text("ANALYZE messages"))
        db.session.commit()
        db.session.remove()


@contextmanager
def statements_sent(app) -> Iterator[list[tuple[str, object]]]:
    """Each statement the app's engine sends while the block runs, with its parameters."""
    sent: list[tuple[str, object]] = []

    def record(conn, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        sent.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)


def plans(app, sent: list[tuple[str, object]]) -> list[str]:
    """The plan of each statement sent (EXPLAIN alone runs none of them)."""
    explained = []
    with app.app_context():
        cursor = db.engine.raw_connection().cursor()
        for statement, parameters in sent:
            cursor.execute(f"EXPLAIN {statement}", parameters)
            explained.append("\n".join(row[0] for row in cursor.fetchall()))
        cursor.connection.rollback()
        cursor.connection.close()
    return explained


def request_plans(app, client, admin, method: str, path: str, **kwargs) -> list[str]:
    with statements_sent(app) as sent:
        response = client.open(path, method=method, headers=admin.headers, **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert sent
    return plans(app, sent)


def test_a_turns_context_read_looks_each_message_up_by_key(app, client, admin, many_messages):
    first = send(client, admin, "hi", chat_id="c")
    body = {"message": "again", "chat_id": "c", "parent_id": first["message_id"]}
    for plan in request_plans(app, client, admin, "POST", "/chat", json=body):
        assert WHOLE_TABLE_SCAN not in plan, plan


def test_reading_a_chat_scans_no_more_than_its_own_messages(app, client, admin, many_messages):
    send(client, admin, "hi", chat_id="c")
    for plan in request_plans(app, client, admin, "GET", "/chat/history/c"):
        assert WHOLE_TABLE_SCAN not in plan, plan


def test_switching_branches_scans_no_more_than_the_chats_messages(
    app, client, admin, many_messages
):
    first = send(client, admin, "hi", chat_id="c")
    send(client, admin, "edited", chat_id="c", parent_id=first["message_id"])
    body = {"message_id": first["message_id"]}
    for plan in request_plans(app, client, admin, "POST", "/chat/history/c/switch", json=body):
        assert WHOLE_TABLE_SCAN not in plan, plan
