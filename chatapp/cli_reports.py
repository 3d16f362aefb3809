"""The rows `chatapp usage` and `chatapp audit` print: the API's reports, as text columns."""

from __future__ import annotations

import json

from chatapp.schemas.audit import AuditQuery
from chatapp.schemas.usage import UsageQuery
from chatapp.services import audit, usage, users

TOTALS_HEADER = ["username", "requests", "errors", "prompt_tokens", "completion_tokens", "cost"]
DAYS_HEADER = ["date", "model", "requests", "errors", "prompt_tokens", "completion_tokens", "cost"]
AUDIT_HEADER = ["time", "actor", "action", "target", "details", "request_id"]


def _counts(row: usage.UsageRow) -> list[str]:
    counts = (row.requests, row.errors, row.prompt_tokens, row.completion_tokens)
    return [*map(str, counts), f"{row.cost:.6f}"]


def usage_rows(query: UsageQuery, username: str | None) -> list[list[str]]:
    """Every user's totals over the period; with `username`, that user's days and models."""
    start, end = query.period(usage.today())
    if username is None:
        listed = usage.per_user(start, end)
        return [TOTALS_HEADER, *([u.username, *_counts(u.totals)] for u in listed)]
    days = usage.days_of(users.get_user(username).id, start, end)
    return [DAYS_HEADER, *([str(d.date), str(d.model), *_counts(d)] for d in days)]


def audit_rows(query: AuditQuery) -> list[list[str]]:
    page = audit.entries(query.limit, query.offset, query.action, query.actor)
    return [
        AUDIT_HEADER,
        *(
            [
                entry.created_at.isoformat(),
                entry.actor,
                entry.action,
                entry.target,
                json.dumps(entry.details, sort_keys=True),
                entry.request_id or "-",
            ]
            for entry in page.entries
        ),
    ]
