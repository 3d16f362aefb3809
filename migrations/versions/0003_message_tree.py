"""Conversations as trees (SPEC 14): messages.parent_id and chats.current_message_id.

Every existing chat becomes a single branch: each message's parent is the message before it
in its chat (by id), and the current leaf is its last message.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 12:50:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
PARENT_FK = "fk_messages_parent_id_messages"
CURRENT_FK = "fk_chats_current_message_id_messages"

# The backfill: plain SQL that both databases run, also offline (sql/01_schema.sql).
LINKS = (
    "UPDATE messages SET parent_id = (SELECT max(previous.id) FROM messages AS previous "
    "WHERE previous.chat_pk = messages.chat_pk AND previous.id < messages.id)"
)
LEAVES = (
    "UPDATE chats SET current_message_id = (SELECT max(messages.id) FROM messages "
    "WHERE messages.chat_pk = chats.id)"
)


def upgrade():
    sqlite = op.get_context().dialect.name == "sqlite"
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parent_id", BIG_ID, nullable=True))
        batch_op.create_foreign_key(
            PARENT_FK, "messages", ["parent_id"], ["id"], ondelete="CASCADE"
        )
        batch_op.create_index(batch_op.f("ix_messages_parent_id"), ["parent_id"], unique=False)
    if sqlite:
        # SQLite rebuilds chats: its DROP TABLE deletes every row first, which cascades to
        # every message, and foreign keys can't be switched off inside this transaction.
        op.execute("CREATE TEMPORARY TABLE messages_kept AS SELECT * FROM messages")
    with op.batch_alter_table("chats", schema=None) as batch_op:
        batch_op.add_column(sa.Column("current_message_id", BIG_ID, nullable=True))
        batch_op.create_foreign_key(
            CURRENT_FK,
            "messages",
            ["current_message_id"],
            ["id"],
            ondelete="SET NULL",
            deferrable=True,
            initially="DEFERRED",
        )
    if sqlite:
        op.execute("INSERT INTO messages SELECT * FROM messages_kept")
        op.execute("DROP TABLE messages_kept")
    op.execute(LINKS)
    op.execute(LEAVES)


def downgrade():
    """Back to linear chats: every message stays, in id order; the branches' links go."""
    sqlite = op.get_context().dialect.name == "sqlite"
    if sqlite:
        op.execute("CREATE TEMPORARY TABLE messages_kept AS SELECT * FROM messages")
    with op.batch_alter_table("chats", schema=None) as batch_op:
        batch_op.drop_constraint(CURRENT_FK, type_="foreignkey")
        batch_op.drop_column("current_message_id")
    if sqlite:
        op.execute("INSERT INTO messages SELECT * FROM messages_kept")
        op.execute("DROP TABLE messages_kept")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_messages_parent_id"))
        batch_op.drop_constraint(PARENT_FK, type_="foreignkey")
        batch_op.drop_column("parent_id")
