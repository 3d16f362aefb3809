"""API keys: made with 256 random bits, stored only as SHA-256, shown once."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import String, bindparam, or_, select, update
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import make_transient_to_detached

from chatapp.db_types import utcnow
from chatapp.errors import Conflict, NotFound
from chatapp.extensions import db
from chatapp.models import ApiKey, User
from chatapp.services import audit

KEY_PREFIX = "ck_"
# Keys we make are `ck_` and 43 URL-safe characters; API_KEY, the bootstrap key, may be any
# string an old deployment used. A key is looked up by its hash, so its form matters to nobody.
MAX_KEY_CHARS = 512
MIN_BOOTSTRAP_KEY_CHARS = 16
OLD_EXAMPLE_KEY = "your-secure-api-key-here"  # the old app's .env.example value
DISPLAY_PREFIX_CHARS = 12  # "ck_" and 9 random characters: enough to tell keys apart in a list
DIGEST_PREFIX = "key_"  # how a key we did not make is shown: its digest's start, not its own
GENERATED_KEY_CHARS = len(KEY_PREFIX) + 43  # secrets.token_urlsafe(32)
# Writing last_used_at on every request would add a write to every read; once a minute is plenty.
LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class NewKey:
    record: ApiKey
    clear: str


@dataclass(frozen=True)
class KeyOwner:
    """What authentication reads about a key: its owner, and when it was last used."""

    user: User
    key_id: int
    last_used_at: datetime | None


# The key and its user in one SELECT, built once (each request only binds the hash). A revoked
# key finds no row. OWNER_ROWS is the same as rows, for a statement that reads it as a CTE.
_KEY_COLUMNS = (ApiKey.id.label("key_id"), ApiKey.key_hash, ApiKey.last_used_at)
_UNREVOKED_WITH_HASH = (
    ApiKey.key_hash == bindparam("digest", type_=String),
    ApiKey.revoked_at.is_(None),
)
_KEY_OWNER = (
    select(User, *_KEY_COLUMNS).join(ApiKey, ApiKey.user_id == User.id).where(*_UNREVOKED_WITH_HASH)
)
_LAST_USED_AT = ApiKey.__table__.c.last_used_at.type
OWNER_ROWS = (
    select(User.__table__, *_KEY_COLUMNS)
    .join(ApiKey, ApiKey.user_id == User.id)
    .where(*_UNREVOKED_WITH_HASH)
)


def hash_key(clear: str) -> str:
    return hashlib.sha256(clear.encode()).hexdigest()


def generate_clear_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def is_well_formed(clear: str) -> bool:
    """Worth a lookup: not empty, not absurdly long, no whitespace around it."""
    return 0 < len(clear) <= MAX_KEY_CHARS and clear == clear.strip()


class UnusableBootstrapKey(ValueError):
    """API_KEY is set to a value no one should run a server with."""


def check_bootstrap_key(clear: str) -> None:
    """API_KEY may have any form, but not a short one nor the old example's."""
    if clear == OLD_EXAMPLE_KEY:
        raise UnusableBootstrapKey(
            f"API_KEY is the example value '{OLD_EXAMPLE_KEY}'; set a secret of your own"
        )
    if len(clear) < MIN_BOOTSTRAP_KEY_CHARS or not is_well_formed(clear):
        raise UnusableBootstrapKey(
            f"API_KEY must be {MIN_BOOTSTRAP_KEY_CHARS} to {MAX_KEY_CHARS} characters with no"
            f" space around them (it has {len(clear)}); `python -c 'import secrets;"
            " print(secrets.token_urlsafe(32))'` makes a good one"
        )


def add_key(user: User, name: str, clear: str | None = None) -> NewKey:
    """Add a new key for `user` to the session (a given clear key is used as is, for API_KEY)."""
    clear = clear or generate_clear_key()
    record = ApiKey(user=user, name=name, prefix=display_prefix(clear), key_hash=hash_key(clear))
    db.session.add(record)
    return NewKey(record, clear)


def display_prefix(clear: str) -> str:
    """What lists and the audit log show of a key. Ours start with 9 of 43 random characters;
    an old deployment's API_KEY may be 16 characters in all, so it shows its digest's start."""
    if clear.startswith(KEY_PREFIX) and len(clear) == GENERATED_KEY_CHARS:
        return clear[:DISPLAY_PREFIX_CHARS]
    return DIGEST_PREFIX + hash_key(clear)[: DISPLAY_PREFIX_CHARS - len(DIGEST_PREFIX)]


def create_key(user: User, name: str, *, actor: str) -> NewKey:
    """A new key for `user`, and its audit entry, in one transaction."""
    new_key = add_key(user, name)
    details = {"user": user.username, "name": name}
    audit.add(actor, "key.created", audit.key_target(new_key.record.prefix), details)
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise Conflict("That key's display prefix already exists; create another") from exc
    return new_key


def find_key_owner(clear: str) -> KeyOwner | None:
    """The owner of the unrevoked key with this clear text, read with the key in one SELECT."""
    digest = hash_key(clear)
    row = db.session.execute(_KEY_OWNER, {"digest": digest}).first()
    if row is None or not is_same_digest(row.key_hash, digest):
        return None
    return KeyOwner(row.User, row.key_id, row.last_used_at)


def owner_of_row(row: Any, dialect: Dialect) -> KeyOwner:
    """A KeyOwner from a row of OWNER_ROWS read outside the session, as the driver gave it: its
    User joins the session as if loaded there, without a SELECT."""
    user = User(**{name: convert(row._mapping[name]) for name, convert in _converters(dialect)})
    make_transient_to_detached(user)
    last_used_at = _LAST_USED_AT.process_result_value(row.last_used_at, dialect)
    return KeyOwner(db.session.merge(user, load=False), row.key_id, last_used_at)


@cache
def _converters(dialect: Dialect) -> list[tuple[str, Callable[[Any], Any]]]:
    """Each user column's name and what turns the driver's value into the model's."""
    converters = []
    for column in User.__table__.columns:
        process = column.type.result_processor(dialect, None)
        converters.append((column.key, process or _as_is))
    return converters


def _as_is(value: Any) -> Any:
    return value


def is_same_digest(stored: str, digest: str) -> bool:
    """The lookup is by hash, so timing reveals nothing about the key; compare again anyway."""
    return hmac.compare_digest(stored, digest)


def touch(owner: KeyOwner) -> None:
    """Record the key's use at most once per LAST_USED_RESOLUTION; most requests write nothing.

    The UPDATE checks the age again, so requests racing past the minute write the row once.
    """
    now = utcnow()
    cutoff = now - LAST_USED_RESOLUTION
    if owner.last_used_at is not None and owner.last_used_at >= cutoff:
        return
    table = ApiKey.__table__
    stale = or_(table.c.last_used_at.is_(None), table.c.last_used_at < cutoff)
    db.session.execute(
        update(table).where(table.c.id == owner.key_id, stale).values(last_used_at=now)
    )
    db.session.commit()


def list_keys(user: User) -> list[ApiKey]:
    return list(
        db.session.scalars(
            select(ApiKey).where(ApiKey.user_id == user.id).order_by(ApiKey.created_at, ApiKey.id)
        )
    )


def revoke_key(prefix: str, user: User | None = None, *, actor: str) -> ApiKey:
    """Revoke by display prefix; limited to `user`'s own keys unless None (operators, admins)."""
    query = select(ApiKey).where(ApiKey.prefix == prefix, ApiKey.revoked_at.is_(None))
    if user is not None:
        query = query.where(ApiKey.user_id == user.id)
    record = db.session.scalars(query).first()
    if record is None:
        raise NotFound(f"Key '{prefix}' not found")
    record.revoked_at = utcnow()
    details = {"user": record.user.username, "name": record.name}
    audit.add(actor, "key.revoked", audit.key_target(prefix), details)
    db.session.commit()
    return record
