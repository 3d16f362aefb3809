"""Helpers for the chat tests: send a turn, read an SSE stream, snapshot the stored chats."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from chatapp.extensions import db
from chatapp.models import Chat, Message, User
from tests.conftest import TestUser

Event = tuple[str, Any]  # ("delta", {"content": ...}); pings are ("ping", None)


def send(client: FlaskClient, user: TestUser, message: str, **fields: Any) -> dict[str, Any]:
    """POST /chat without streaming; the turn must succeed."""
    response = client.post("/chat", json={"message": message, **fields}, headers=user.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def parse_sse(text: str) -> list[Event]:
    events: list[Event] = []
    for block in text.split("\n\n"):
        if block == ": ping":
            events.append(("ping", None))
        elif block:
            fields = dict(line.split(": ", 1) for line in block.split("\n"))
            events.append((fields["event"], json.loads(fields["data"])))
    return events


def parse_sse_chunks(chunks: Iterable[bytes]) -> list[Event]:
    return parse_sse(b"".join(chunks).decode())


def stream(client: FlaskClient, user: TestUser, message: str, **fields: Any) -> list[Event]:
    """POST /chat with "stream": true; the stream must start (status 200)."""
    body = {"message": message, "stream": True, **fields}
    response = client.post("/chat", json=body, headers=user.headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "text/event-stream"
    return parse_sse(response.get_data(as_text=True))


def deltas(events: list[Event]) -> str:
    return "".join(data["content"] for name, data in events if name == "delta")


def history(client: FlaskClient, user: TestUser, chat_id: str) -> dict[str, Any]:
    response = client.get(f"/chat/history/{chat_id}", headers=user.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["history"]


def snapshot(app: Flask) -> list[tuple]:
    """Every stored chat and message of every user, to show that nothing changed."""
    with app.app_context():
        chats = db.session.execute(
            select(User.username, Chat.chat_id, Chat.title, Chat.model, Chat.updated_at)
            .join(User, User.id == Chat.user_id)
            .order_by(Chat.id)
        ).all()
        messages = db.session.execute(
            select(Message.chat_pk, Message.role, Message.content, Message.finish_reason).order_by(
                Message.id
            )
        ).all()
        db.session.remove()
    return [tuple(row) for row in [*chats, *messages]]


def wait_for(condition: Callable[[], Any], timeout: float = 20.0) -> Any:
    """Poll until `condition()` is truthy; a generous deadline, never a timed assertion."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = condition()
        if result:
            return result
        time.sleep(0.02)
    raise AssertionError(f"condition not met within {timeout} s")
