"""One user's chats: lookup, listing and search, rename, delete, and storing a finished turn."""

from __future__ import annotations

import functools
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    CTE,
    Insert,
    Row,
    ScalarSelect,
    Select,
    Subquery,
    Text,
    Update,
    bindparam,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError

from chatapp.db_types import utcnow
from chatapp.errors import ApiError, ChatNotFound, NotFound, UserDeleted, ValidationFailed
from chatapp.extensions import db, dialect_name
from chatapp.models import FINISH_REASONS, Chat, Message, User
from chatapp.providers import Usage
from chatapp.services import usage
from chatapp.services.branch_walk import branch_up

CHAT_ID_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
TITLE_CHARS = 60
DEFAULT_TITLE = "New chat"
COUNTED_ROLES = ("user", "assistant")  # message_count and search leave the system prompt out
USAGE_PREFIX = "usage_"  # the turn's statement's parameters of its call's usage upsert


# What the chat list shows: these columns are all it reads.
LISTED_COLUMNS = (Chat.id, Chat.chat_id, Chat.title, Chat.model, Chat.created_at, Chat.updated_at)


@dataclass(frozen=True)
class ListedChat:
    chat_id: str
    title: str
    model: str | None
    created_at: datetime
    updated_at: datetime
    message_count: int  # user and assistant messages of the current branch, not the system one

    @classmethod
    def of(cls, row: Row) -> ListedChat:
        return cls(
            row.chat_id, row.title, row.model, row.created_at, row.updated_at, row.message_count
        )


@dataclass(frozen=True)
class ChatPage:
    chats: list[ListedChat]  # newest first
    total: int


@dataclass(frozen=True)
class TurnIds:
    """The ids a turn stores its messages under, chosen before its provider call."""

    parent: int | None  # what the new user message follows (a regenerate's: what it answers)
    user: int | None  # None for a regenerate: the user message is stored already
    reply: int
    system: int | None = None  # the root, stored only if this turn creates the chat


@dataclass(frozen=True)
class TurnRecord:
    """A finished (or cancelled) turn, ready to be written in one transaction."""

    user_id: int
    chat_id: str
    system_prompt: str | None  # stored only if this turn creates the chat
    message: str | None  # None for a regenerate
    sent_at: datetime
    reply: str
    model: str
    usage: Usage
    finish_reason: str | None  # one of FINISH_REASONS or None: see storable_finish_reason
    ids: TurnIds
    chat_existed: bool = False  # whether the turn's context read found the chat


def new_chat_id() -> str:
    return secrets.token_urlsafe(12)


def check_chat_id(chat_id: str) -> str:
    """A chat ID from a path: 422 unless it matches the SPEC's pattern."""
    if not CHAT_ID_RE.fullmatch(chat_id):
        detail = {"field": "chat_id", "message": "must match ^[A-Za-z0-9_-]{1,64}$"}
        raise ValidationFailed(details=[detail])
    return chat_id


def make_title(message: str) -> str:
    """The first user message on one line, cut to TITLE_CHARS."""
    line = " ".join(message.split())
    if len(line) <= TITLE_CHARS:
        return line or DEFAULT_TITLE
    return line[: TITLE_CHARS - 1].rstrip() + "…"


def find_chat(user: User, chat_id: str, for_update: bool = False) -> Chat | None:
    query = select(Chat).where(Chat.user_id == user.id, Chat.chat_id == chat_id)
    return db.session.scalars(query.with_for_update() if for_update else query).first()


def get_chat(user: User, chat_id: str, for_update: bool = False) -> Chat:
    """The user's chat; someone else's is exactly as missing as one that doesn't exist.

    `for_update` row-locks it (PostgreSQL) for a change to its tree: a turn locks the chat
    before it inserts below a message, so whoever changes the tree takes the same order.
    """
    chat = find_chat(user, check_chat_id(chat_id), for_update)
    if chat is None:
        raise ChatNotFound(chat_id)
    return chat


def chat_messages(chat_pk: int) -> list[Message]:
    """Every message of the chat's tree, in the order they were written."""
    return list(
        db.session.scalars(select(Message).where(Message.chat_pk == chat_pk).order_by(Message.id))
    )


def list_chats(user: User, query: str | None, limit: int, offset: int) -> ChatPage:
    """A page of chats, newest first, matching `query` in titles or message text.

    One statement whatever the page size: the page's columns, each chat's message count and,
    on every row, the total; only a page past the end needs a second one for the total.
    """
    parameters = {"user_id": user.id, "limit": limit, "offset": offset}
    if query:
        parameters["pattern"] = f"%{_escape_like(query)}%"
    rows = db.session.execute(_page_statement(bool(query), dialect_name()), parameters).all()
    if not rows:
        return ChatPage([], _total(bool(query), parameters) if offset else 0)
    return ChatPage([ListedChat.of(row) for row in rows], rows[0].total)


def _matching(searching: bool) -> Select:
    return _search(select(*LISTED_COLUMNS).where(Chat.user_id == bindparam("user_id")), searching)


@functools.cache
def _page_statement(searching: bool, dialect: str) -> Select:
    """`list_chats`' statement, built once with or without a search, bound on each call."""
    page = (
        _matching(searching)
        .add_columns(Chat.current_message_id.label("anchor_id"), func.count().over().label("total"))
        .order_by(Chat.updated_at.desc(), Chat.id.desc())
        .limit(bindparam("limit"))
        .offset(bindparam("offset"))
        .cte("page")
    )
    counts = _branch_counts(page, dialect)
    return (
        select(page, func.coalesce(counts.c.message_count, 0).label("message_count"))
        .outerjoin(counts, counts.c.chat_pk == page.c.id)
        .order_by(page.c.updated_at.desc(), page.c.id.desc())
    )


def _branch_counts(page: CTE, dialect: str) -> Subquery:
    """(chat_pk, message_count): the user and assistant messages of each listed chat's current
    branch, as GET /chat/history/<id> shows it, not of its whole tree.

    The page's branches are walked up at once from their leaves (`branch_walk`).
    """
    walk = branch_up(page, dialect, carried=("chat_pk", "role"))
    counted = func.count(case((walk.c.role.in_(COUNTED_ROLES), 1)))
    return (
        select(walk.c.chat_pk, counted.label("message_count"))
        .group_by(walk.c.chat_pk)
        .subquery("listed_counts")
    )


def _total(searching: bool, parameters: dict[str, object]) -> int:
    counted = _matching(searching).with_only_columns(func.count(Chat.id))
    return db.session.scalar(counted, parameters) or 0


def _search(statement: Select, searching: bool) -> Select:
    """Chats whose title or any message's text holds the bound `pattern` (a LIKE pattern)."""
    if not searching:
        return statement
    pattern = bindparam("pattern", type_=Text)
    in_messages = exists().where(
        Message.chat_pk == Chat.id,
        Message.role.in_(COUNTED_ROLES),
        Message.content.ilike(pattern, escape="\\"),
    )
    return statement.where(or_(Chat.title.ilike(pattern, escape="\\"), in_messages))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def rename_chat(user: User, chat_id: str, title: str) -> None:
    """One UPDATE, so renames racing with each other or with a delete need no read first."""
    renamed = db.session.execute(
        update(Chat)
        .where(Chat.user_id == user.id, Chat.chat_id == check_chat_id(chat_id))
        .values(title=title, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    if renamed.rowcount == 0:
        raise ChatNotFound(chat_id)


def delete_chat(user: User, chat_id: str) -> None:
    """Delete the chat; its messages go with it (ON DELETE CASCADE)."""
    result = db.session.execute(
        delete(Chat).where(Chat.user_id == user.id, Chat.chat_id == check_chat_id(chat_id))
    )
    db.session.commit()
    if result.rowcount == 0:
        raise ChatNotFound(chat_id)


def store_turn(record: TurnRecord, call: usage.HeldCall | None = None) -> None:
    """Write the turn whole or not at all: the chat's row, then its new messages.

    The chat row is claimed (and row-locked) first, pointing at the reply (a deferred key):
    two first messages racing on one new chat_id land in one chat with one system message.
    On PostgreSQL a turn on an existing chat does both in one statement, which also counts
    the held `call`; otherwise they share a transaction of their own, since a turn's session
    commits each statement alone (`extensions.statements_alone`), and the call stays held. A
    message the turn follows that went meanwhile (its branch or its chat deleted) fails the
    insert's foreign key: 404, nothing stored.
    """
    try:
        if record.chat_existed and dialect_name() == "postgresql":
            usage_values = call.pending(USAGE_PREFIX) if call else None
            _write_in_one(record, usage_values)
            db.session.commit()
            if call and usage_values is not None:
                call.written()
        else:
            with db.engine.begin() as connection:
                _write_in_steps(connection, record)
    except IntegrityError as exc:
        db.session.rollback()
        raise _gone_meanwhile(record) from exc
    except BaseException:
        db.session.rollback()
        raise


def _write_in_steps(connection: Connection, record: TurnRecord) -> None:
    chat_pk, parent = _claim_chat(connection, record)
    # Core, one multi-row statement: the ORM's bulk path costs more and adds nothing.
    connection.execute(insert(Message.__table__), _message_rows(record, chat_pk, parent))


def _gone_meanwhile(record: TurnRecord) -> ApiError:
    """What went while the turn waited on the model: its user, its chat, or its branch."""
    user = db.session.get(User, record.user_id)
    if user is None:  # an admin deleted the user
        return UserDeleted()
    if find_chat(user, record.chat_id) is None:
        return ChatNotFound(record.chat_id)
    return NotFound("The message this turn follows was deleted meanwhile")


def _write_in_one(record: TurnRecord, usage_values: dict[str, Any] | None) -> None:
    """PostgreSQL, a turn on an existing chat: the chat's bump (its row locked first, as
    ever), the messages' insert and, given its values, the call's usage upsert in one
    statement of data-modifying CTEs. A chat deleted meanwhile leaves the rows' chat_pk NULL,
    which the insert refuses: nothing is written, usage included."""
    rows = _message_rows(record, 0, record.ids.parent)  # chat_pk is the CTE's, not bound
    names = tuple(name for name in rows[0] if name != "chat_pk")
    parameters = {f"{name}_{n}": row[name] for n, row in enumerate(rows) for name in names}
    parameters |= {
        "chat_user_id": record.user_id,
        "chat_chat_id": record.chat_id,
        "chat_updated_at": utcnow(),
        "chat_model": record.model,
        "chat_reply": record.ids.reply,
    }
    statement = _turn_statement(names, len(rows), counting=usage_values is not None)
    db.session.execute(statement, parameters | (usage_values or {}))


@functools.cache
def _turn_statement(names: tuple[str, ...], row_count: int, counting: bool) -> Insert:
    """`_write_in_one`'s statement, built once per shape with every value a bound parameter.

    An INSERT ... SELECT, not a multi-row VALUES: SQLAlchemy never caches the compiled form of
    the latter, and compiling it cost more than the rest of the turn's Python. Each value is
    cast to its column's type, so that a row of NULLs unites with the others.
    """
    bumped = (
        update(Chat)
        .where(Chat.user_id == bindparam("chat_user_id"), Chat.chat_id == bindparam("chat_chat_id"))
        .values(
            updated_at=bindparam("chat_updated_at"),
            model=bindparam("chat_model"),
            current_message_id=bindparam("chat_reply"),
        )
        .returning(Chat.id)
        .cte("bumped")
    )
    chat_pk = select(bumped.c.id).scalar_subquery()
    columns = Message.__table__.c
    rows = [
        select(
            chat_pk,
            *(
                cast(bindparam(f"{name}_{n}", type_=columns[name].type), columns[name].type)
                for name in names
            ),
        )
        for n in range(row_count)
    ]
    statement = insert(Message.__table__).from_select(("chat_pk", *names), union_all(*rows))
    if counting:  # PostgreSQL runs a data-modifying CTE once, referenced or not
        statement = statement.add_cte(usage.upsert("postgresql", USAGE_PREFIX).cte("counted"))
    return statement


def _upsert_chat() -> sqlite.Insert | postgresql.Insert:
    # The two dialects' inserts offer ON CONFLICT DO NOTHING ... RETURNING with one API.
    return (sqlite if dialect_name() == "sqlite" else postgresql).insert(Chat)


def _claim_chat(connection: Connection, record: TurnRecord) -> tuple[int, int | None]:
    """The chat's primary key, and the parent of the turn's first message.

    A turn on an existing chat bumps it, or finds it deleted (404). A turn that creates one
    may find it made meanwhile by another first message: it joins that chat, under its root.
    """
    now = utcnow()
    if record.chat_existed:
        existing = _bump_chat(connection, record, now)
        if existing is None:
            raise ChatNotFound(record.chat_id)
        return existing, record.ids.parent
    created = _create_chat(connection, record, now)
    if created is not None:
        return created, record.ids.parent
    existing = _bump_chat(connection, record, now)
    if existing is None:  # created and deleted again around us
        raise ChatNotFound(record.chat_id)
    return existing, _root(connection, existing)


def _create_chat(connection: Connection, record: TurnRecord, now: datetime) -> int | None:
    return connection.scalar(
        _upsert_chat()
        .values(
            user_id=record.user_id,
            chat_id=record.chat_id,
            title=make_title(record.message or ""),
            model=record.model,
            created_at=now,
            updated_at=now,
            current_message_id=record.ids.reply,
        )
        .on_conflict_do_nothing(index_elements=["user_id", "chat_id"])
        .returning(Chat.id)
    )


def _bump_chat(connection: Connection, record: TurnRecord, now: datetime) -> int | None:
    return connection.scalar(_bump(record, now).returning(Chat.id))


def _bump(record: TurnRecord, now: datetime) -> Update:
    """The chat's update for a stored turn: its reply becomes the current leaf."""
    return (
        update(Chat)
        .where(Chat.user_id == record.user_id, Chat.chat_id == record.chat_id)
        .values(updated_at=now, model=record.model, current_message_id=record.ids.reply)
    )


def _root(connection: Connection, chat_pk: int) -> int | None:
    return connection.scalar(
        select(func.min(Message.id)).where(Message.chat_pk == chat_pk, Message.parent_id.is_(None))
    )


def _message_rows(
    record: TurnRecord, chat_pk: int | ScalarSelect, parent: int | None
) -> list[dict]:
    """The system message if the turn created the chat, the user message, the reply: each
    the parent of the next. Every row has the same keys, so they go in one statement."""

    def row(message_id: int, parent_id: int | None, role: str, content: str, **extra: object):
        return {
            "id": message_id,
            "parent_id": parent_id,
            "chat_pk": chat_pk,
            "role": role,
            "content": content,
            "created_at": record.sent_at,
            "model": None,
            "prompt_tokens": None,
            "completion_tokens": None,
            "finish_reason": None,
            **extra,
        }

    ids = record.ids
    rows = []
    if ids.system is not None and parent == ids.system:  # this turn created the chat
        rows.append(row(ids.system, None, "system", record.system_prompt or ""))
    if ids.user is not None:
        rows.append(row(ids.user, parent, "user", record.message or ""))
    rows.append(
        row(
            ids.reply,
            ids.user if ids.user is not None else parent,
            "assistant",
            record.reply.replace("\x00", "\ufffd"),  # PostgreSQL text can't hold NUL
            created_at=utcnow(),
            model=record.model,
            prompt_tokens=record.usage.prompt_tokens,
            completion_tokens=record.usage.completion_tokens,
            finish_reason=record.finish_reason,
        )
    )
    return rows


def storable_finish_reason(reason: str | None) -> str | None:
    """Providers may pass through reasons of their own; the table keeps the SPEC's three."""
    return reason if reason in FINISH_REASONS else None
