"""Shapes shared by every resource: the error envelope and small building blocks."""

from __future__ import annotations

from typing import Literal

from pydantic import AfterValidator, BaseModel, ConfigDict


def _no_nul(value: str) -> str:
    # PostgreSQL text can't hold NUL: refuse it on both databases, before anything is stored.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


NoNul = AfterValidator(_no_nul)


class StrictModel(BaseModel):
    """Request bodies reject unknown fields and loose types ("yes" is not a boolean): a 422."""

    model_config = ConfigDict(extra="forbid", strict=True)


class ErrorDetail(BaseModel):
    field: str
    message: str


class ErrorBody(BaseModel):
    code: str
    message: str
    details: list[ErrorDetail] | None = None


class ErrorResponse(BaseModel):
    success: Literal[False] = False
    error: ErrorBody
    detail: str  # the message again: the old app's clients read `detail`


class MessageResponse(BaseModel):
    success: Literal[True] = True
    message: str
