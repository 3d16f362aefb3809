"""Helpers for the usage, quota and audit tests: read the counters, move the clock."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import insert, select

from chatapp.extensions import db
from chatapp.models import UsageDaily, User
from chatapp.services import quotas, usage
from tests.conftest import TestUser

COUNTED = ("requests", "errors", "prompt_tokens", "completion_tokens")


def my_usage(client: FlaskClient, user: TestUser, **query: str) -> dict[str, Any]:
    response = client.get("/me/usage", query_string=query, headers=user.headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def counters(client: FlaskClient, user: TestUser) -> dict[str, int]:
    """The user's counters over the default period, all models together."""
    days = my_usage(client, user)["days"]
    return {name: sum(day[name] for day in days) for name in COUNTED}


def counts(requests: int, errors: int, prompt_tokens: int, completion_tokens: int) -> dict:
    """Counters as `counters` returns them."""
    return dict(zip(COUNTED, (requests, errors, prompt_tokens, completion_tokens), strict=True))


def freeze(monkeypatch, moment: datetime) -> None:
    """The clock usage and quotas count by, set to `moment` (UTC)."""
    monkeypatch.setattr(usage, "utcnow", lambda: moment)
    monkeypatch.setattr(quotas, "utcnow", lambda: moment)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def add_usage(app: Flask, username: str, day: date, model: str = "m", **counts: Any) -> None:
    """A usage row written directly, e.g. dated yesterday."""
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == username))
        row = {"requests": 1, "errors": 0, "prompt_tokens": 0, "completion_tokens": 0, "cost": 0.0}
        row.update(counts, user_id=user_id, day=day, model=model)
        db.session.execute(insert(UsageDaily), [row])
        db.session.commit()
        db.session.remove()
