"""A walk up a branch of a chat's tree, one primary-key lookup a message, on every database.

PostgreSQL expects a recursive CTE to yield about a hundred rows. Joined to the messages table
as it is, a walk got a hash join with a scan of the whole table (everyone's messages) up to
some 30,000 rows. A LATERAL subquery with an OFFSET can't be flattened into such a join, so
PostgreSQL probes the key once per row of the walk, whatever the table's size. SQLite has no
LATERAL, and always probes the key of a plain join.
"""

from __future__ import annotations

from sqlalchemy import CTE, ColumnElement, FromClause, Select, literal, literal_column, select, true

from chatapp.models import Message

MESSAGES = Message.__table__


def branch_up(anchor: CTE | ColumnElement[int], dialect: str, carried: tuple[str, ...] = ()) -> CTE:
    """A recursive CTE of (id, parent_id, depth, *carried): `anchor` (a message id, bound, or a
    CTE's `anchor_id`s, each in its chat `id`) at depth 0, and its ancestors up to the root,
    each with the `carried` columns of its own.
    """
    columns = tuple(dict.fromkeys(("id", "parent_id", "chat_pk", *carried)))
    if isinstance(anchor, CTE):
        leaf, on_leaf = _by_id(dialect, anchor.c.anchor_id, columns, "leaf")
        start = _row(leaf, literal(0), carried).select_from(anchor.join(leaf, on_leaf))
        start = start.where(leaf.c.chat_pk == anchor.c.id)
    else:
        start = _row(MESSAGES, literal(0), carried).where(MESSAGES.c.id == anchor)
    walk = start.cte("branch", recursive=True)
    parent, on_parent = _by_id(dialect, walk.c.parent_id, columns, "parent")
    step = _row(parent, walk.c.depth + 1, carried)
    return walk.union_all(step.select_from(walk.join(parent, on_parent)))


def _row(message: FromClause, depth: ColumnElement[int], carried: tuple[str, ...]) -> Select:
    own = (message.c[column] for column in carried)
    return select(message.c.id, message.c.parent_id, depth.label("depth"), *own)


def _by_id(
    dialect: str, message_id: ColumnElement[int], columns: tuple[str, ...], name: str
) -> tuple[FromClause, ColumnElement[bool]]:
    """The `columns` of the message `message_id` names, as a FROM item and its ON clause.

    A join on them gives no row where `message_id` is NULL or names no message.
    """
    messages = MESSAGES.alias(name)
    if dialect != "postgresql":
        return messages, messages.c.id == message_id
    found = select(*(messages.c[column] for column in columns)).where(messages.c.id == message_id)
    return found.offset(literal_column("0")).lateral(f"{name}_row"), true()
