"""Users: creation with a first key and a prompt library, admin changes, the bootstrap admin."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from chatapp.errors import Conflict, UserNotFound
from chatapp.extensions import db
from chatapp.models import ApiKey, User
from chatapp.services import audit, keys, prompts

log = logging.getLogger(__name__)

ADMIN_USERNAME = "admin"


@dataclass(frozen=True)
class NewUser:
    user: User
    clear_key: str


def get_user(username: str) -> User:
    user = db.session.scalars(select(User).where(User.username == username)).first()
    if user is None:
        raise UserNotFound(username)
    return user


def list_users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.username)))


def create_user(
    username: str,
    is_admin: bool = False,
    rate_limit_per_hour: int | None = None,
    clear_key: str | None = None,
    *,
    token_quota_per_day: int | None = None,
    token_quota_per_month: int | None = None,
    actor: str = audit.SYSTEM_ACTOR,
) -> NewUser:
    """The user, their first key, their prompt library and the audit entry, in one transaction."""
    settings = {
        "is_admin": is_admin,
        "rate_limit_per_hour": rate_limit_per_hour,
        "token_quota_per_day": token_quota_per_day,
        "token_quota_per_month": token_quota_per_month,
    }
    user = User(username=username, **settings)
    db.session.add(user)
    new_key = keys.add_key(user, "default", clear_key)
    prompts.seed_library(user)
    details = {**settings, "key": new_key.record.prefix}
    audit.add(actor, "user.created", audit.user_target(username), details)
    try:
        db.session.commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise Conflict(f"User '{username}' already exists") from exc
    return NewUser(user, new_key.clear)


def update_user(actor: User | None, username: str, changes: dict[str, object]) -> User:
    """Change the user's flags, limits or quotas; `actor` None is an operator at the CLI."""
    user = get_user(username)
    if (
        actor is not None
        and user.id == actor.id
        and (changes.get("is_active") is False or changes.get("is_admin") is False)
    ):
        raise Conflict("You can't deactivate or demote yourself")
    before = {name: getattr(user, name) for name in changes}
    audit.user_changes(_actor_name(actor), username, before, changes)
    # One UPDATE of the row found: 404 if another request deleted it first.
    updated = db.session.scalars(
        update(User).where(User.id == user.id).values(**changes).returning(User)
    ).first()
    if updated is None:
        db.session.rollback()
        raise UserNotFound(username)
    db.session.expunge(updated)  # detached, the commit can't expire what the answer shows
    db.session.commit()
    return updated


def delete_user(actor: User | None, username: str) -> None:
    """Delete the user and all that is theirs; `actor` None is an operator at the CLI."""
    user = get_user(username)
    if actor is not None and user.id == actor.id:
        raise Conflict("You can't delete yourself")
    audit.add(_actor_name(actor), "user.deleted", audit.user_target(username))
    # The chats, messages, keys and prompts go with the user (ON DELETE CASCADE). One DELETE
    # of the row found: 404 if another request deleted it first.
    deleted = db.session.execute(
        delete(User).where(User.id == user.id).execution_options(synchronize_session=False)
    )
    if deleted.rowcount == 0:
        db.session.rollback()  # the audit entry with it
        raise UserNotFound(username)
    db.session.commit()


def _actor_name(actor: User | None) -> str:
    return audit.CLI_ACTOR if actor is None else actor.username


def ensure_admin(api_key: str | None) -> str | None:
    """Make sure `admin` exists (with `api_key` valid for it when set).

    Returns the clear key of a newly created admin when no API_KEY was given, so that the
    caller can print it once; otherwise None. An unusable API_KEY raises UnusableBootstrapKey.
    """
    if api_key:
        keys.check_bootstrap_key(api_key)
    admin = db.session.scalars(select(User).where(User.username == ADMIN_USERNAME)).first()
    if admin is None:
        created = create_user(ADMIN_USERNAME, is_admin=True, clear_key=api_key)
        return None if api_key else created.clear_key
    if api_key:
        _ensure_key_for(admin, api_key)
    return None


def _ensure_key_for(admin: User, api_key: str) -> None:
    record = db.session.scalars(
        select(ApiKey).where(ApiKey.key_hash == keys.hash_key(api_key))
    ).first()
    if record is None:
        target = audit.key_target(keys.add_key(admin, "API_KEY", api_key).record.prefix)
        audit.add(audit.SYSTEM_ACTOR, "key.created", target, {"user": admin.username})
    elif record.user_id != admin.id:
        log.error("API_KEY belongs to user id %s, not to admin; leaving it alone", record.user_id)
    elif record.revoked_at is not None:
        log.warning("API_KEY had been revoked; it is valid again because API_KEY is set")
        record.revoked_at = None
    db.session.commit()
