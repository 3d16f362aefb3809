"""Migration 0003: linear chats made by the previous release become one branch each."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from flask import Flask
from flask_migrate import downgrade, upgrade
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from chatapp import create_app
from chatapp.database import MIGRATIONS_DIR
from chatapp.extensions import db
from chatapp.models import Chat
from chatapp.services import tree

SCRATCH_DATABASE = "chatapp_migration_test"
# (chat_id, messages): the chats' messages are inserted interleaved, so that their ids mix.
CHATS = {
    "a": [("system", "Be brief."), ("user", "a1"), ("assistant", "a2"), ("user", "a3")],
    "b": [("system", "Be kind."), ("user", "b1"), ("assistant", "b2")],
    "empty": [],
}


@pytest.fixture(params=["sqlite", "postgresql"])
def scratch_url(request, tmp_path) -> Iterator[str]:
    """An empty database of its own on each backend: the migrations start from nothing."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    url = request.getfixturevalue("postgres_url")
    if url is None:
        pytest.skip("PostgreSQL is unavailable (see the warning above)")
    admin = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {SCRATCH_DATABASE}"))
        connection.execute(text(f"CREATE DATABASE {SCRATCH_DATABASE}"))
    yield make_url(url).set(database=SCRATCH_DATABASE).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE IF EXISTS {SCRATCH_DATABASE} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture
def old_app(scratch_url, tmp_path) -> Iterator[Flask]:
    """The app on a database migrated to 0002, the release before trees, with linear chats."""
    app = create_app(
        {
            "DATABASE_URL": scratch_url,
            "TESTING": True,
            "LEGACY_IMPORT_ON_START": False,
            "RATELIMIT_PURGE_SECONDS": 0,
        }
    )
    with app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR), revision="0002")
        _insert_linear_chats()
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _insert_linear_chats() -> None:
    now = datetime.now(UTC)
    stamps = {"created_at": now, "updated_at": now}
    with db.engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO users (id, username, is_admin, is_active, created_at, updated_at) "
                "VALUES (1, 'old', false, true, :created_at, :updated_at)"
            ),
            stamps,
        )
        for pk, chat_id in enumerate(CHATS, start=1):
            connection.execute(
                text(
                    "INSERT INTO chats (id, user_id, chat_id, title, created_at, updated_at) "
                    "VALUES (:pk, 1, :chat_id, :chat_id, :created_at, :updated_at)"
                ),
                {"pk": pk, "chat_id": chat_id, **stamps},
            )
        message_id = 0
        for turn in range(max(len(messages) for messages in CHATS.values())):
            for pk, messages in enumerate(CHATS.values(), start=1):
                if turn < len(messages):
                    message_id += 1
                    role, content = messages[turn]
                    connection.execute(
                        text(
                            "INSERT INTO messages (id, chat_pk, role, content, created_at) "
                            "VALUES (:id, :pk, :role, :content, :created_at)"
                        ),
                        {"id": message_id, "pk": pk, "role": role, "content": content, **stamps},
                    )


def _stored(chat_pk: int) -> list[tuple]:
    rows = db.session.execute(
        text("SELECT id, parent_id, role, content FROM messages WHERE chat_pk = :pk ORDER BY id"),
        {"pk": chat_pk},
    )
    return [tuple(row) for row in rows]


def test_each_linear_chat_becomes_one_branch_with_the_same_messages_in_order(old_app):
    with old_app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR))
        for pk, (chat_id, messages) in enumerate(CHATS.items(), start=1):
            chat = db.session.get(Chat, pk)
            branch = tree.current_branch(chat)
            assert [(m.role, m.content) for m in branch] == messages, chat_id
            stored = _stored(pk)
            previous = [None, *[row[0] for row in stored]][: len(stored)]
            assert [row[1] for row in stored] == previous  # each follows the one before
            assert chat.current_message_id == (stored[-1][0] if stored else None)
            assert all(m.sibling_ids == (m.id,) for m in branch)


def test_downgrading_keeps_every_message(old_app):
    with old_app.app_context():
        upgrade(directory=str(MIGRATIONS_DIR))
        before = [_stored(pk) for pk in range(1, len(CHATS) + 1)]
        db.session.remove()
        downgrade(directory=str(MIGRATIONS_DIR), revision="0002")
        after = [
            [tuple(row) for row in db.session.execute(
                text("SELECT id, role, content FROM messages WHERE chat_pk = :pk ORDER BY id"),
                {"pk": pk},
            )]
            for pk in range(1, len(CHATS) + 1)
        ]  # fmt: skip
    assert after == [[(i, role, content) for i, _, role, content in chat] for chat in before]
