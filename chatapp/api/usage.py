"""`GET /me/usage` and the admin's `GET /usage`: LLM calls counted per day, model and user."""

from __future__ import annotations

from flask import Blueprint

from chatapp.admin_check import admin_required
from chatapp.auth import current_user
from chatapp.openapi import api_spec, documented
from chatapp.schemas.usage import AdminUsageQuery, MeUsageResponse, UsageQuery, UsersUsageResponse
from chatapp.services import usage

bp = Blueprint("usage", __name__)


@bp.get("/me/usage")
@api_spec.validate(
    query=UsageQuery, resp=documented(200, MeUsageResponse, 400, 422), tags=["usage"]
)
def my_usage(query: UsageQuery) -> MeUsageResponse:
    return MeUsageResponse.of(usage.user_report(current_user().id, query.from_, query.to))


@bp.get("/usage")
@admin_required
@api_spec.validate(
    query=AdminUsageQuery,
    resp=documented(200, UsersUsageResponse, 400, 403, 404, 422),
    tags=["usage"],
)
def users_usage(query: AdminUsageQuery) -> UsersUsageResponse:
    return UsersUsageResponse.of(usage.users_report(query.from_, query.to, query.user))
