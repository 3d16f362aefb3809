"""Shapes shared by every resource: the error envelope and small building blocks."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    GetCoreSchemaHandler,
    GetJsonSchemaHandler,
)
from pydantic_core import core_schema


def _no_nul(value: str) -> str:
    # PostgreSQL text can't hold NUL: refuse it on both databases, before anything is stored.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    return value


class _NoNul:
    """A string with no NUL character; the JSON schema says so too, so clients know."""

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> Any:
        return core_schema.no_info_after_validator_function(_no_nul, handler(source))

    def __get_pydantic_json_schema__(self, schema: Any, handler: GetJsonSchemaHandler) -> Any:
        return {**handler(schema), "not": {"pattern": "\\x00"}}


NoNul = _NoNul()


def _integral_float_as_int(value: object) -> object:
    # JSON has one number type: 27.0 is an integer to JSON Schema, so strict models take it too.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


JsonInt = BeforeValidator(_integral_float_as_int)


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
