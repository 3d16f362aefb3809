"""The chat services called directly: titles, IDs and storing turns."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

from chatapp.db_types import utcnow
from chatapp.errors import ValidationFailed
from chatapp.extensions import db
from chatapp.models import Message, User
from chatapp.providers import Usage
from chatapp.services import chats
from chatapp.services.message_ids import new_ids


@pytest.mark.parametrize(
    ("message", "title"),
    [
        ("Hello", "Hello"),
        ("  spaced\n\tout  ", "spaced out"),
        ("x" * 60, "x" * 60),
        ("word " * 20, ("word " * 12).strip()[:59].rstrip() + "…"),
        ("   ", "New chat"),
    ],
)
def test_title_is_the_first_message_on_one_short_line(message, title):
    assert chats.make_title(message) == title


@pytest.mark.parametrize("chat_id", ["a", "A-z_0", "x" * 64])
def test_valid_chat_ids_pass(chat_id):
    assert chats.check_chat_id(chat_id) == chat_id


@pytest.mark.parametrize("chat_id", ["", "x" * 65, "a b", "a\n", "ü", "a/b"])
def test_invalid_chat_ids_raise_validation_failed(chat_id):
    with pytest.raises(ValidationFailed):
        chats.check_chat_id(chat_id)


def test_fresh_chat_ids_are_valid_and_distinct():
    ids = {chats.new_chat_id() for _ in range(100)}
    assert len(ids) == 100 and all(chats.check_chat_id(i) for i in ids)


@pytest.mark.parametrize(
    ("reason", "stored"), [("stop", "stop"), ("length", "length"), ("unload", None), (None, None)]
)
def test_unknown_finish_reasons_are_stored_as_null(reason, stored):
    assert chats.storable_finish_reason(reason) == stored


def record(user_id: int, chat_id: str, message: str) -> chats.TurnRecord:
    """A first turn on `chat_id`: on a chat that exists, it joins it under its root."""
    system, user, reply = new_ids(3)
    return chats.TurnRecord(
        user_id=user_id,
        chat_id=chat_id,
        system_prompt="system text",
        message=message,
        sent_at=utcnow(),
        reply=f"reply to {message}",
        model="m",
        usage=Usage(1, 2),
        finish_reason="stop",
        ids=chats.TurnIds(parent=system, user=user, reply=reply, system=system),
    )


def test_store_turn_creates_the_chat_once_with_one_system_message(app):
    with app.app_context():
        admin = db.session.scalars(select(User).where(User.username == "admin")).one()
        chats.store_turn(record(admin.id, "c1", "one"))
        chats.store_turn(record(admin.id, "c1", "two"))
        chat, messages = chats.get_chat_with_messages(admin, "c1")
        assert chat.title == "one"
        assert [(m.role, m.content) for m in messages] == [
            ("system", "system text"),
            ("user", "one"),
            ("assistant", "reply to one"),
            ("user", "two"),
            ("assistant", "reply to two"),
        ]
        assert messages[2].prompt_tokens == 1 and messages[2].completion_tokens == 2


def test_store_turn_replaces_nul_in_a_reply(app):
    with app.app_context():
        admin_id = db.session.scalar(select(User.id).where(User.username == "admin"))
        chats.store_turn(replace(record(admin_id, "c1", "hi"), reply="bad \x00 byte"))
        reply = db.session.scalars(select(Message).where(Message.role == "assistant")).one()
        assert reply.content == "bad \ufffd byte"
