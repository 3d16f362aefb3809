"""A message looked up by its primary key for each row of a tree walk, on every database.

PostgreSQL expects a recursive CTE to yield about a hundred rows. Joined to the messages table
as it is, a walk got a hash join with a scan of the whole table (everyone's messages) up to
some 30,000 rows. A LATERAL subquery with an OFFSET can't be flattened into such a join, so
PostgreSQL probes the key once per row of the walk, whatever the table's size. SQLite has no
LATERAL, and always probes the key of a plain join.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, FromClause, literal_column, select, true

from chatapp.models import Message

MESSAGES = Message.__table__


def by_id(
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
