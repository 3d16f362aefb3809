"""`GET /me/usage` and the admin's `GET /usage`: LLM calls counted per day, model and user."""

from __future__ import annotations

from flask import Blueprint

from chatapp.admin_check import admin_required
from chatapp.auth import current_user
from chatapp.openapi import api_spec, documented
from chatapp.schemas.usage import (
    AdminUsageQuery,
    MeUsageResponse,
    UsageDay,
    UsageQuery,
    UsageTotals,
    UsersUsageResponse,
    UserUsage,
)
from chatapp.services import usage

bp = Blueprint("usage", __name__)


@bp.get("/me/usage")
@api_spec.validate(query=UsageQuery, resp=documented(200, MeUsageResponse, 422), tags=["usage"])
def my_usage(query: UsageQuery) -> MeUsageResponse:
    start, end = query.period(usage.today())
    rows = usage.days_of(current_user().id, start, end)
    return MeUsageResponse(
        from_=start,
        to=end,
        totals=UsageTotals.model_validate(usage.total_of(rows)),
        days=[UsageDay.model_validate(row) for row in rows],
    )


@bp.get("/usage")
@admin_required
@api_spec.validate(
    query=AdminUsageQuery, resp=documented(200, UsersUsageResponse, 403, 404, 422), tags=["usage"]
)
def users_usage(query: AdminUsageQuery) -> UsersUsageResponse:
    start, end = query.period(usage.today())
    listed = usage.per_user(start, end, query.user)
    return UsersUsageResponse(
        from_=start,
        to=end,
        totals=UsageTotals.model_validate(usage.total_of([user.totals for user in listed])),
        users=[UserUsage(username=u.username, **vars(u.totals)) for u in listed],
    )
