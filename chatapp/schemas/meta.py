"""Shapes of the root and health endpoints."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field


class EndpointInfo(BaseModel):
    method: str
    path: str


class RootResponse(BaseModel):
    success: Literal[True] = True
    name: str
    version: str
    authentication: str
    docs: str
    endpoints: list[EndpointInfo]


class HealthResponse(BaseModel):
    status: Literal["ok", "degraded", "down"]
    version: str
    database: dict[str, Any]
    provider: dict[str, Any] = Field(description="The default model's provider")
    providers: dict[str, dict[str, Any]] | None = Field(
        None, exclude_if=lambda value: value is None, description="Each one, with a providers file"
    )
