"""`/me`, `/me/keys` and the admin-only `/users` endpoints."""

from __future__ import annotations

from flask import Blueprint

from chatapp.admin_check import admin_required
from chatapp.auth import current_user
from chatapp.openapi import api_spec, documented
from chatapp.ratelimit import rate_limit_report
from chatapp.schemas.common import MessageResponse
from chatapp.schemas.users import (
    CreateKey,
    CreateUser,
    KeyCreatedResponse,
    KeyOut,
    KeyResponse,
    KeysResponse,
    MeResponse,
    RateLimitUsage,
    TokenQuotaUsage,
    UpdateUser,
    UserCreatedResponse,
    UserOut,
    UserResponse,
    UsersResponse,
)
from chatapp.services import keys, quotas, users

bp = Blueprint("users", __name__)


@bp.get("/me")
@api_spec.validate(resp=documented(200, MeResponse), tags=["users"])
def me() -> MeResponse:
    user = current_user()
    limits = {
        name: RateLimitUsage.model_validate(usage, from_attributes=True)
        for name, usage in rate_limit_report(user).items()
    }
    token_quotas = {
        period: TokenQuotaUsage.model_validate(status)
        for period, status in quotas.report(user).items()
    }
    return MeResponse(
        username=user.username,
        is_admin=user.is_admin,
        rate_limits=limits,
        token_quotas=token_quotas,
    )


@bp.get("/me/keys")
@api_spec.validate(resp=documented(200, KeysResponse), tags=["keys"])
def list_my_keys() -> KeysResponse:
    records = keys.list_keys(current_user())
    return KeysResponse(keys=[KeyOut.model_validate(record) for record in records])


@bp.post("/me/keys")
@api_spec.validate(json=CreateKey, resp=documented(201, KeyCreatedResponse), tags=["keys"])
def create_my_key(json: CreateKey) -> tuple[KeyCreatedResponse, int]:
    user = current_user()
    new_key = keys.create_key(user, json.name, actor=user.username)
    return KeyCreatedResponse(key=KeyOut.model_validate(new_key.record), api_key=new_key.clear), 201


@bp.delete("/me/keys/<prefix>")
@api_spec.validate(resp=documented(200, KeyResponse, 404), tags=["keys"])
def revoke_my_key(prefix: str) -> KeyResponse:
    user = current_user()
    record = keys.revoke_key(prefix, user, actor=user.username)
    return KeyResponse(key=KeyOut.model_validate(record))


@bp.get("/users")
@admin_required
@api_spec.validate(resp=documented(200, UsersResponse, 403), tags=["users"])
def list_users() -> UsersResponse:
    return UsersResponse(users=[UserOut.model_validate(user) for user in users.list_users()])


@bp.post("/users")
@admin_required
@api_spec.validate(
    json=CreateUser,
    resp=documented(201, UserCreatedResponse, 403, 409),
    tags=["users"],
)
def create_user(json: CreateUser) -> tuple[UserCreatedResponse, int]:
    new_user = users.create_user(
        json.username,
        json.is_admin,
        json.rate_limit_per_hour,
        token_quota_per_day=json.token_quota_per_day,
        token_quota_per_month=json.token_quota_per_month,
        actor=current_user().username,
    )
    user = UserOut.model_validate(new_user.user)
    return UserCreatedResponse(user=user, api_key=new_user.clear_key), 201


@bp.patch("/users/<username>")
@admin_required
@api_spec.validate(
    json=UpdateUser,
    resp=documented(200, UserResponse, 403, 404, 409),
    tags=["users"],
)
def update_user(username: str, json: UpdateUser) -> UserResponse:
    user = users.update_user(current_user(), username, json.changes())
    return UserResponse(user=UserOut.model_validate(user))


@bp.delete("/users/<username>")
@admin_required
@api_spec.validate(
    resp=documented(200, MessageResponse, 403, 404, 409),
    tags=["users"],
)
def delete_user(username: str) -> MessageResponse:
    users.delete_user(current_user(), username)
    return MessageResponse(message=f"User '{username}' deleted")


@bp.get("/users/<username>/keys")
@admin_required
@api_spec.validate(resp=documented(200, KeysResponse, 403, 404), tags=["keys"])
def list_user_keys(username: str) -> KeysResponse:
    records = keys.list_keys(users.get_user(username))
    return KeysResponse(keys=[KeyOut.model_validate(record) for record in records])


@bp.delete("/users/<username>/keys/<prefix>")
@admin_required
@api_spec.validate(resp=documented(200, KeyResponse, 403, 404), tags=["keys"])
def revoke_user_key(username: str, prefix: str) -> KeyResponse:
    record = keys.revoke_key(prefix, users.get_user(username), actor=current_user().username)
    return KeyResponse(key=KeyOut.model_validate(record))
