"""Reads that walk a chat's tree keep to that chat on PostgreSQL, whatever the table's size.

PostgreSQL expects a recursive CTE to yield about a hundred rows. Joined with `messages`, that
estimate made it hash-join a scan of the whole table, until the table held some 30,000
messages: each turn, chat read and branch switch then cost time in proportion to everyone's
messages (1.2-2 ms at 10,000, against 0.06-0.09 ms now).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import text

from chatapp.extensions import db
from tests import conftest
from tests.api.chatkit import send
from tests.api.test_history_queries import add_chats
from tests.conftest import QueryCounter

WHOLE_TABLE_SCAN = "Seq Scan on messages"


@pytest.fixture
def database_url(empty_postgres_url: str) -> str:
    """PostgreSQL alone: SQLite has no hash join, it looks keys up."""
    return empty_postgres_url


@pytest.fixture
def many_messages(app, request: pytest.FixtureRequest) -> None:
    """10,000 messages in 40 chats (or 250 in each of `request.param` chats), and the
    planner's statistics up to date."""
    add_chats(app, "admin", getattr(request, "param", 40), 250, "bulk")
    with app.app_context():
        db.session.execute(text("ANALYZE messages"))
        db.session.commit()
        db.session.remove()


@pytest.fixture
def plans_of(app, client, admin, count_queries, many_messages) -> Callable[..., list[str]]:
    """`plans_of(method, path, json=..., user=admin)`: the plan of each statement the request
    sent."""

    def plans(method: str, path: str, user: conftest.TestUser = admin, **kwargs: Any) -> list[str]:
        with count_queries() as counter:
            response = client.open(path, method=method, headers=user.headers, **kwargs)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert counter.count
        return explained(app, counter)

    return plans


def explained(app, counter: QueryCounter) -> list[str]:
    """EXPLAIN alone runs none of the statements."""
    with app.app_context():
        connection = db.engine.raw_connection()
        cursor = connection.cursor()
        plans = []
        for statement, parameters in zip(counter.statements, counter.parameters, strict=True):
            cursor.execute(f"EXPLAIN {statement}", parameters)
            plans.append("\n".join(row[0] for row in cursor.fetchall()))
        connection.rollback()
        connection.close()
    return plans


# A plain join of a walk with `messages` scanned the table at 1,000 messages: in a step of
# the walk, that is a scan per step. branch_walk probes the key at any size.
ANY_SIZE = pytest.mark.parametrize("many_messages", [4, 40], ids=["1k", "10k"], indirect=True)


@ANY_SIZE
def test_a_turns_context_read_looks_each_message_up_by_key(client, admin, plans_of):
    first = send(client, admin, "hi", chat_id="c")
    body = {"message": "again", "chat_id": "c", "parent_id": first["message_id"]}
    for plan in plans_of("POST", "/chat", json=body):
        assert WHOLE_TABLE_SCAN not in plan, plan


@ANY_SIZE
def test_reading_a_chat_scans_no_more_than_its_own_messages(client, admin, plans_of):
    send(client, admin, "hi", chat_id="c")
    for plan in plans_of("GET", "/chat/history/c"):
        assert WHOLE_TABLE_SCAN not in plan, plan


def test_switching_branches_scans_no_more_than_the_chats_messages(client, admin, plans_of):
    first = send(client, admin, "hi", chat_id="c")
    send(client, admin, "edited", chat_id="c", parent_id=first["message_id"])
    body = {"message_id": first["message_id"]}
    for plan in plans_of("POST", "/chat/history/c/switch", json=body):
        assert WHOLE_TABLE_SCAN not in plan, plan


@ANY_SIZE
def test_listing_short_chats_probes_their_messages_not_everyones(client, make_user, plans_of):
    """20 chats of one exchange, as bench_pipeline lists them, among everyone's messages."""
    alice = make_user("alice")
    for n in range(20):
        send(client, alice, "hi", chat_id=f"c{n}")
    for plan in plans_of("GET", "/chat/history", user=alice):
        assert WHOLE_TABLE_SCAN not in plan, plan
