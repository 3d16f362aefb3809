"""Concurrent turns over real HTTP: one chat for a new chat_id, turns kept whole, no 500."""

from __future__ import annotations

import threading

import pytest
import requests
from sqlalchemy import select

from chatapp.extensions import db
from chatapp.models import ROLES, Chat, Message

SENDERS = 6


def send_together(url: str, headers: dict, bodies: list[dict]) -> list[requests.Response]:
    """POST every body to /chat at the same moment, each from its own thread."""
    barrier = threading.Barrier(len(bodies))
    responses: list[requests.Response | None] = [None] * len(bodies)

    def post(index: int) -> None:
        barrier.wait()
        responses[index] = requests.post(
            f"{url}/chat", json=bodies[index], headers=headers, timeout=60
        )

    threads = [threading.Thread(target=post, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return [response for response in responses if response is not None]


def stored_roles(app, chat_id: str) -> tuple[int, list[tuple[str, str]]]:
    with app.app_context():
        chats = db.session.scalars(select(Chat).where(Chat.chat_id == chat_id)).all()
        messages = db.session.execute(
            select(Message.role, Message.content)
            .where(Message.chat_pk.in_([chat.id for chat in chats]))
            .order_by(Message.id)
        ).all()
        db.session.remove()
    return len(chats), [tuple(row) for row in messages]


@pytest.mark.parametrize("streaming", [False, True], ids=["json", "stream"])
def test_concurrent_first_messages_on_a_new_chat_id_share_one_chat(
    app, live_server, admin, fake_ollama, streaming
):
    bodies = [
        {"message": f"question {i}", "chat_id": "race", "stream": streaming} for i in range(SENDERS)
    ]
    responses = send_together(live_server.url, admin.headers, bodies)
    assert [r.status_code for r in responses] == [200] * SENDERS
    if streaming:
        assert all("event: done" in r.text for r in responses)

    chats, messages = stored_roles(app, "race")
    assert chats == 1
    assert sorted(role for role, _ in messages) == sorted(
        ["system"] + ["user", "assistant"] * SENDERS
    )
    questions = {content for role, content in messages if role == "user"}
    assert questions == {f"question {i}" for i in range(SENDERS)}
    # Their ids were chosen before the race was decided: the tree says who follows whom. A
    # message follows the root, or a reply stored before it read the chat.
    root, users, replies = stored_tree(app, "race")
    assert all(parent == root or parent in replies for parent in users.values())
    assert sorted(replies.values()) == sorted(users)


def stored_tree(app, chat_id: str) -> tuple[int, dict[int, int], dict[int, int]]:
    """The chat's root, and its user messages' and replies' parents, by their ids."""
    with app.app_context():
        rows = db.session.execute(
            select(Message.id, Message.parent_id, Message.role)
            .join(Chat, Chat.id == Message.chat_pk)
            .where(Chat.chat_id == chat_id)
        ).all()
        db.session.remove()
    (root,) = [row.id for row in rows if row.parent_id is None]
    parents = {role: {row.id: row.parent_id for row in rows if row.role == role} for role in ROLES}
    return root, parents["user"], parents["assistant"]


def test_concurrent_turns_on_an_existing_chat_stay_whole(app, live_server, admin, fake_ollama):
    first = [{"message": "opening", "chat_id": "busy"}]
    assert send_together(live_server.url, admin.headers, first)[0].status_code == 200
    fake_ollama.first_token_delay = 0.05
    bodies = [{"message": f"q{i}", "chat_id": "busy", "stream": True} for i in range(SENDERS)]
    responses = send_together(live_server.url, admin.headers, bodies)
    assert [r.status_code for r in responses] == [200] * SENDERS

    _, messages = stored_roles(app, "busy")
    roles = [role for role, _ in messages]
    assert roles == ["system"] + ["user", "assistant"] * (SENDERS + 1)
