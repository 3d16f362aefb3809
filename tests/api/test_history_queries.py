"""The SQL statement count of the history endpoints doesn't grow with a chat or a chat list."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert, select, update

from chatapp.db_types import utcnow
from chatapp.extensions import db
from chatapp.models import Chat, Message, User
from chatapp.services.message_ids import new_ids


def add_chats(app, username: str, chats: int, messages_each: int, prefix: str) -> None:
    """Store chats directly, each one branch: fast enough for thousands of rows."""
    now = utcnow()
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == username))
        for n in range(chats):
            chat_pk = db.session.scalar(
                insert(Chat)
                .values(
                    user_id=user_id,
                    chat_id=f"{prefix}{n}",
                    title=f"chat {n}",
                    created_at=now,
                    updated_at=now + timedelta(seconds=n),
                )
                .returning(Chat.id)
            )
            ids = new_ids(messages_each)
            rows = [
                {"id": ids[i], "parent_id": ids[i - 1] if i else None, "chat_pk": chat_pk,
                 "role": ("user", "assistant")[i % 2], "content": f"m{i}"}
                for i in range(messages_each)
            ]  # fmt: skip
            if rows:
                db.session.execute(insert(Message), rows)
                leaf = update(Chat).where(Chat.id == chat_pk).values(current_message_id=ids[-1])
                db.session.execute(leaf)
        db.session.commit()
        db.session.remove()


def statements(client, count_queries, user, method: str, path: str, **kwargs) -> int:
    client.open(path, method=method, headers=user.headers, **kwargs)  # warm-up: key touch etc.
    with count_queries() as counter:
        response = client.open(path, method=method, headers=user.headers, **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    return counter.count


def test_reading_a_chat_takes_as_many_queries_for_1000_messages_as_for_10(
    app, client, admin, count_queries
):
    add_chats(app, "admin", 1, 10, "short")
    add_chats(app, "admin", 1, 1000, "long")
    short = statements(client, count_queries, admin, "GET", "/chat/history/short0")
    long = statements(client, count_queries, admin, "GET", "/chat/history/long0")
    assert short == long
    shown = client.get("/chat/history/long0", headers=admin.headers).get_json()["history"]
    assert [m["content"] for m in shown["messages"]] == [f"m{i}" for i in range(1000)]


def test_exporting_a_chat_takes_as_many_queries_for_1000_messages_as_for_10(
    app, client, admin, count_queries
):
    add_chats(app, "admin", 1, 10, "short")
    add_chats(app, "admin", 1, 1000, "long")
    short = statements(client, count_queries, admin, "GET", "/chat/history/short0/export")
    long = statements(client, count_queries, admin, "GET", "/chat/history/long0/export")
    assert short == long


def test_listing_takes_as_many_queries_for_500_chats_as_for_10(
    app, client, make_user, count_queries
):
    few, many = make_user("few"), make_user("many")
    add_chats(app, "few", 10, 2, "c")
    add_chats(app, "many", 500, 2, "c")
    path = "/chat/history?limit=500"
    assert statements(client, count_queries, few, "GET", path) == statements(
        client, count_queries, many, "GET", path
    )
    listing = client.get(path, headers=many.headers).get_json()
    assert len(listing["chats"]) == 500 and listing["chats"]["c7"]["message_count"] == 2


def test_searching_takes_as_many_queries_for_500_chats_as_for_10(
    app, client, make_user, count_queries
):
    few, many = make_user("few"), make_user("many")
    add_chats(app, "few", 10, 2, "c")
    add_chats(app, "many", 500, 2, "c")
    path = "/chat/history?limit=500&q=m1"
    assert statements(client, count_queries, few, "GET", path) == statements(
        client, count_queries, many, "GET", path
    )


def test_continuing_a_chat_takes_as_many_queries_for_1000_messages_as_for_10(
    app, client, admin, count_queries
):
    add_chats(app, "admin", 1, 10, "short")
    add_chats(app, "admin", 1, 1000, "long")
    counts = [
        statements(
            client, count_queries, admin, "POST", "/chat", json={"message": "hi", "chat_id": c}
        )
        for c in ("short0", "long0")
    ]
    assert counts[0] == counts[1]
