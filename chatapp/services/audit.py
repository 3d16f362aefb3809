"""The audit log (SPEC section 16): who changed which user or key, in the change's transaction.

An entry is added to the session that holds the change, so both commit or neither does. No
entry ever holds a key or a key's hash: keys are named by their display prefix.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask import g, has_app_context
from sqlalchemy import func, select

from chatapp.extensions import db
from chatapp.models import AuditEntry

CLI_ACTOR = "cli"  # an operator at the `chatapp` command line
SYSTEM_ACTOR = "system"  # start-up: the bootstrap admin and API_KEY
LIMIT_FIELDS = ("rate_limit_per_hour", "token_quota_per_day", "token_quota_per_month")


def add(actor: str, action: str, target: str, details: dict[str, Any] | None = None) -> None:
    """Add an entry to the session, to be committed with the change it describes."""
    request_id = g.get("request_id") if has_app_context() else None
    entry = AuditEntry(
        actor=actor, action=action, target=target, details=details or {}, request_id=request_id
    )
    db.session.add(entry)


def user_target(username: str) -> str:
    return f"user:{username}"


def key_target(prefix: str) -> str:
    return f"key:{prefix}"


def user_changes(actor: str, username: str, before: dict[str, Any], after: dict[str, Any]) -> None:
    """One entry for the flags changed (user.updated), one for the limits (user.limits_changed)."""
    changed = {
        name: {"from": before[name], "to": value}
        for name, value in after.items()
        if before[name] != value
    }
    limits = {name: change for name, change in changed.items() if name in LIMIT_FIELDS}
    flags = {name: change for name, change in changed.items() if name not in LIMIT_FIELDS}
    if flags:
        add(actor, "user.updated", user_target(username), flags)
    if limits:
        add(actor, "user.limits_changed", user_target(username), limits)


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    total: int


def entries(
    limit: int, offset: int, action: str | None = None, actor: str | None = None
) -> AuditPage:
    """Entries newest first, filtered by action and actor when given, and how many match."""
    conditions = [
        column == value
        for column, value in ((AuditEntry.action, action), (AuditEntry.actor, actor))
        if value is not None
    ]
    page = select(AuditEntry).where(*conditions).order_by(AuditEntry.id.desc())
    total = db.session.scalar(select(func.count()).select_from(AuditEntry).where(*conditions))
    found = list(db.session.scalars(page.limit(limit).offset(offset)))
    return AuditPage(found, total or 0)
