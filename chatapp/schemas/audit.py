"""Shapes of the audit log endpoint, `GET /audit`."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

Filter = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^\x00]*$")]


class AuditQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0, le=10_000_000)
    action: Filter | None = Field(None, description='e.g. "user.created", "key.revoked"')
    actor: Filter | None = Field(None, description='A username, "cli" or "system"')


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    time: datetime = Field(validation_alias="created_at")
    actor: str
    action: str
    target: str = Field(description='"user:<username>" or "key:<display prefix>"')
    details: dict[str, Any]
    request_id: str | None


class AuditResponse(BaseModel):
    success: Literal[True] = True
    entries: list[AuditEntryOut]
    total: int
