"""Shapes of the users and keys endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator
from pydantic.json_schema import SkipJsonSchema

from chatapp.schemas.common import JsonInt, NoNul, StrictModel

Username = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
KeyName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=r"\S"),
    NoNul,
]
RateLimit = Annotated[int, Field(ge=1, le=10_000_000), JsonInt]
TokenQuota = Annotated[int, Field(ge=1, le=10**15), JsonInt]
LIMIT_FIELDS = ("rate_limit_per_hour", "token_quota_per_day", "token_quota_per_month")


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    username: str
    is_admin: bool
    is_active: bool
    rate_limit_per_hour: int | None
    token_quota_per_day: int | None = Field(description="Tokens per UTC day; null: the default")
    token_quota_per_month: int | None = Field(description="Tokens per UTC month; null: the default")
    created_at: datetime
    updated_at: datetime


class KeyOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    prefix: str
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class CreateUser(StrictModel):
    username: Username
    is_admin: bool = False
    rate_limit_per_hour: RateLimit | None = None
    token_quota_per_day: TokenQuota | None = None
    token_quota_per_month: TokenQuota | None = None


class UpdateUser(StrictModel):
    """A partial change; a limit or quota set to null goes back to the default."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    # Left out, not null: the document says so (SkipJsonSchema); a null gets a clear 422 below.
    is_active: bool | SkipJsonSchema[None] = None
    is_admin: bool | SkipJsonSchema[None] = None
    rate_limit_per_hour: RateLimit | None = None
    token_quota_per_day: TokenQuota | None = None
    token_quota_per_month: TokenQuota | None = None

    @model_validator(mode="after")
    def _check_fields(self) -> UpdateUser:
        if not self.model_fields_set:
            raise ValueError(f"send at least one of is_active, is_admin, {', '.join(LIMIT_FIELDS)}")
        for name in ("is_active", "is_admin"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} must be true or false")
        return self

    def changes(self) -> dict[str, object]:
        return self.model_dump(exclude_unset=True)


class CreateKey(StrictModel):
    name: KeyName = "default"


class UserResponse(BaseModel):
    success: Literal[True] = True
    user: UserOut


class UserCreatedResponse(UserResponse):
    api_key: str


class UsersResponse(BaseModel):
    success: Literal[True] = True
    users: list[UserOut]


class KeysResponse(BaseModel):
    success: Literal[True] = True
    keys: list[KeyOut]


class KeyCreatedResponse(BaseModel):
    success: Literal[True] = True
    key: KeyOut
    api_key: str


class KeyResponse(BaseModel):
    success: Literal[True] = True
    key: KeyOut


class RateLimitUsage(BaseModel):
    limit: str = Field(description='e.g. "1000/hour"')
    remaining: int | None = Field(
        None, description="What is left now; null when limiting is off or its storage is down"
    )
    reset_at: float | None = Field(
        None, description="Epoch seconds when more requests become available"
    )


class TokenQuotaUsage(BaseModel):
    """A token quota and what is left of it (prompt and completion tokens together)."""

    model_config = ConfigDict(from_attributes=True)

    limit: int | None = Field(description="Tokens per period; null: unlimited")
    used: int = Field(description="Tokens used in the current period")
    remaining: int | None = Field(description="Tokens left; null: unlimited")
    resets_at: datetime = Field(description="When the period ends (UTC midnight, or month start)")


class MeResponse(BaseModel):
    success: Literal[True] = True
    username: str
    is_admin: bool
    rate_limits: dict[str, RateLimitUsage]
    token_quotas: dict[Literal["day", "month"], TokenQuotaUsage]
