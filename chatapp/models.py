"""The database tables (SPEC section 4) as SQLAlchemy 2.0 typed models."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from chatapp.db_types import UTCDateTime, utcnow
from chatapp.extensions import db

# SQLite only autoincrements INTEGER PRIMARY KEY; BigInteger stays 64-bit on PostgreSQL.
BigId = BigInteger().with_variant(Integer(), "sqlite")

ROLES = ("system", "user", "assistant")
FINISH_REASONS = ("stop", "length", "cancelled")


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class User(TimestampMixin, db.Model):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    is_admin: Mapped[bool] = mapped_column(default=False)
    is_active: Mapped[bool] = mapped_column(default=True)
    rate_limit_per_hour: Mapped[int | None] = mapped_column(Integer)
    active_prompt_id: Mapped[int | None] = mapped_column(
        ForeignKey("system_prompts.id", ondelete="SET NULL", use_alter=True)
    )

    keys: Mapped[list[ApiKey]] = relationship(
        back_populates="user", cascade="all, delete-orphan", passive_deletes=True
    )
    # post_update breaks the users <-> system_prompts cycle when both rows are new.
    active_prompt: Mapped[SystemPrompt | None] = relationship(
        foreign_keys=[active_prompt_id], post_update=True
    )


class ApiKey(db.Model):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship(back_populates="keys")


class Chat(TimestampMixin, db.Model):
    __tablename__ = "chats"
    __table_args__ = (
        UniqueConstraint("user_id", "chat_id"),
        Index("ix_chats_user_id_updated_at", "user_id", "updated_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    chat_id: Mapped[str] = mapped_column(String(64))
    title: Mapped[str] = mapped_column(String(200), default="New chat")
    model: Mapped[str | None] = mapped_column(String(200))
    # The leaf of the current branch (SPEC 14). Deferred, so that a turn can point it at the
    # reply it inserts next, in the same transaction; chats <-> messages is a cycle.
    current_message_id: Mapped[int | None] = mapped_column(
        BigId,
        ForeignKey(
            "messages.id",
            ondelete="SET NULL",
            use_alter=True,
            deferrable=True,
            initially="DEFERRED",
        ),
    )


class Message(db.Model):
    __tablename__ = "messages"
    __table_args__ = (
        CheckConstraint("role IN ('system', 'user', 'assistant')", name="role"),
        CheckConstraint(
            "finish_reason IS NULL OR finish_reason IN ('stop', 'length', 'cancelled')",
            name="finish_reason",
        ),
        Index("ix_messages_chat_pk_id", "chat_pk", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    chat_pk: Mapped[int] = mapped_column(BigId, ForeignKey("chats.id", ondelete="CASCADE"))
    # The message this one follows; NULL for the root (the system message). A chat is a tree.
    parent_id: Mapped[int | None] = mapped_column(
        BigId, ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    model: Mapped[str | None] = mapped_column(String(200))
    prompt_tokens: Mapped[int | None] = mapped_column(Integer)
    completion_tokens: Mapped[int | None] = mapped_column(Integer)
    finish_reason: Mapped[str | None] = mapped_column(String(16))


class SystemPrompt(TimestampMixin, db.Model):
    __tablename__ = "system_prompts"
    __table_args__ = (UniqueConstraint("user_id", "slug"), UniqueConstraint("user_id", "name"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    slug: Mapped[str] = mapped_column(String(64))
    name: Mapped[str] = mapped_column(String(100))
    content: Mapped[str] = mapped_column(Text)
    description: Mapped[str] = mapped_column(String(500), default="")

    user: Mapped[User] = relationship(foreign_keys=[user_id])


class RateLimit(db.Model):
    """Flask-Limiter's counters; user and endpoint are copied out of the key for reporting."""

    __tablename__ = "rate_limits"

    key: Mapped[str] = mapped_column(String(512), primary_key=True)
    user_key: Mapped[str | None] = mapped_column(String(128))
    endpoint: Mapped[str | None] = mapped_column(String(128))
    count: Mapped[int] = mapped_column(BigInteger, default=0)
    window_seconds: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[float] = mapped_column(Float, index=True)


class LegacyImport(db.Model):
    """What the legacy import brought in, so that a restart never brings back a deleted item."""

    __tablename__ = "legacy_imports"
    __table_args__ = (UniqueConstraint("user_id", "kind", "legacy_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # "chat", "prompt" or "active_text"
    legacy_id: Mapped[str] = mapped_column(String(64))
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
