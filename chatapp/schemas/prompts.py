"""Shapes of the system-prompt endpoints."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Literal, Protocol

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)
from pydantic.json_schema import SkipJsonSchema

from chatapp.schemas.common import NoNul, StrictModel

MAX_NAME_CHARS = 100
MAX_DESCRIPTION_CHARS = 500
MAX_CONTENT_CHARS = 20_000


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be blank")
    return value


PromptName = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, min_length=1, max_length=MAX_NAME_CHARS, pattern=r"\S"
    ),
    NoNul,
]
PromptContent = Annotated[
    str,
    StringConstraints(max_length=MAX_CONTENT_CHARS),
    AfterValidator(_not_blank),
    NoNul,
    Field(json_schema_extra={"pattern": r"\S"}),  # what _not_blank checks, as the docs say it
]
PromptDescription = Annotated[str, StringConstraints(max_length=MAX_DESCRIPTION_CHARS), NoNul]


class CreatePrompt(StrictModel):
    name: PromptName
    content: PromptContent
    description: PromptDescription = ""


class UpdatePrompt(StrictModel):
    """A partial change: at least one of name, content and description; none may be null."""

    model_config = ConfigDict(json_schema_extra={"minProperties": 1})

    # Left out, not null: the document says so (SkipJsonSchema); a null gets a clear 422 below.
    name: PromptName | SkipJsonSchema[None] = None
    content: PromptContent | SkipJsonSchema[None] = None
    description: PromptDescription | SkipJsonSchema[None] = None

    @model_validator(mode="after")
    def _check_fields(self) -> UpdatePrompt:
        if not self.model_fields_set:
            raise ValueError("send at least one of name, content, description")
        for name in self.model_fields_set:
            if getattr(self, name) is None:
                raise ValueError(f"{name} must be a string")
        return self

    def changes(self) -> dict[str, str]:
        return self.model_dump(exclude_unset=True)


class SetActivePrompt(StrictModel):
    prompt: PromptContent


class PromptFields(Protocol):
    """What a prompt's answer reads: a SystemPrompt, or the prompt service's PromptRecord."""

    id: int
    slug: str
    name: str
    content: str
    description: str
    created_at: datetime
    updated_at: datetime


class PromptOut(BaseModel):
    id: str
    name: str
    content: str
    description: str
    is_active: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, prompt: PromptFields, active_prompt_id: int | None) -> PromptOut:
        # Typed values read from our own columns: nothing to validate.
        return cls.model_construct(
            id=prompt.slug,
            name=prompt.name,
            content=prompt.content,
            description=prompt.description,
            is_active=prompt.id == active_prompt_id,
            created_at=prompt.created_at,
            updated_at=prompt.updated_at,
        )


class ActivePromptResponse(BaseModel):
    """The active prompt's text; with none active, the built-in default and null id and name."""

    success: Literal[True] = True
    prompt: str
    prompt_id: str | None
    name: str | None


class ActivePromptChangedResponse(ActivePromptResponse):
    message: str


class PromptsResponse(BaseModel):
    success: Literal[True] = True
    prompts: dict[str, PromptOut]

    @classmethod
    def of(cls, library: Sequence[PromptFields], active_prompt_id: int | None) -> PromptsResponse:
        """Built unvalidated, like each PromptOut; spectree then serialises it as it is."""
        prompts = {p.slug: PromptOut.of(p, active_prompt_id) for p in library}
        return cls.model_construct(prompts=prompts)


class PromptResponse(BaseModel):
    success: Literal[True] = True
    prompt_id: str
    prompt: PromptOut


class PromptChangedResponse(PromptResponse):
    message: str
