"""`/system-prompt` (the active prompt) and `/system-prompts` (the user's library)."""

from __future__ import annotations

from flask import Blueprint

from chatapp.auth import current_user
from chatapp.openapi import api_spec, documented
from chatapp.schemas.common import MessageResponse
from chatapp.schemas.prompts import (
    ActivePromptChangedResponse,
    ActivePromptResponse,
    CreatePrompt,
    PromptChangedResponse,
    PromptFields,
    PromptOut,
    PromptResponse,
    PromptsResponse,
    SetActivePrompt,
    UpdatePrompt,
)
from chatapp.services import prompts
from chatapp.services.prompts import DEFAULT_PROMPT_TEXT

bp = Blueprint("prompts", __name__)
TAGS = ["system prompts"]


@bp.get("/system-prompt")
@api_spec.validate(resp=documented(200, ActivePromptResponse), tags=TAGS)
def get_active_prompt() -> ActivePromptResponse:
    active = current_user().active_prompt
    if active is None:
        return ActivePromptResponse(prompt=DEFAULT_PROMPT_TEXT, prompt_id=None, name=None)
    return ActivePromptResponse(prompt=active.content, prompt_id=active.slug, name=active.name)


@bp.post("/system-prompt")
@api_spec.validate(
    json=SetActivePrompt, resp=documented(200, ActivePromptChangedResponse, 409), tags=TAGS
)
def set_active_prompt(json: SetActivePrompt) -> ActivePromptChangedResponse:
    prompt = prompts.set_active_content(current_user(), json.prompt)
    return ActivePromptChangedResponse(
        prompt=prompt.content,
        prompt_id=prompt.slug,
        name=prompt.name,
        message=f"System prompt '{prompt.slug}' updated",
    )


@bp.get("/system-prompts")
@api_spec.validate(resp=documented(200, PromptsResponse), tags=TAGS)
def list_prompts() -> PromptsResponse:
    user = current_user()
    return PromptsResponse.of(prompts.library(user), user.active_prompt_id)


@bp.post("/system-prompts")
@api_spec.validate(json=CreatePrompt, resp=documented(200, PromptChangedResponse, 409), tags=TAGS)
def create_prompt(json: CreatePrompt) -> PromptChangedResponse:
    """200, not 201: the old app answered 200, and its client accepts nothing else."""
    prompt = prompts.create_prompt(current_user(), json.name, json.content, json.description)
    # A new prompt is never the active one: no need to read the user back after the commit.
    return _changed(prompt, f"System prompt '{prompt.name}' created", None)


@bp.get("/system-prompts/<prompt_id>")
@api_spec.validate(resp=documented(200, PromptResponse, 404), tags=TAGS)
def get_prompt(prompt_id: str) -> PromptResponse:
    user = current_user()
    prompt = prompts.get_prompt(user, prompt_id)
    return PromptResponse(prompt_id=prompt.slug, prompt=PromptOut.of(prompt, user.active_prompt_id))


@bp.put("/system-prompts/<prompt_id>")
@api_spec.validate(
    json=UpdatePrompt, resp=documented(200, PromptChangedResponse, 404, 409), tags=TAGS
)
def update_prompt(prompt_id: str, json: UpdatePrompt) -> PromptChangedResponse:
    user = current_user()
    prompt = prompts.update_prompt(user, prompt_id, json.changes())
    return _changed(prompt, f"System prompt '{prompt.slug}' updated", user.active_prompt_id)


@bp.delete("/system-prompts/<prompt_id>")
@api_spec.validate(resp=documented(200, MessageResponse, 404), tags=TAGS)
def delete_prompt(prompt_id: str) -> MessageResponse:
    prompt = prompts.delete_prompt(current_user(), prompt_id)
    return MessageResponse(message=f"System prompt '{prompt.slug}' deleted")


@bp.post("/system-prompts/<prompt_id>/activate")
@api_spec.validate(resp=documented(200, PromptChangedResponse, 404), tags=TAGS)
def activate_prompt(prompt_id: str) -> PromptChangedResponse:
    prompt = prompts.activate_prompt(current_user(), prompt_id)
    return _changed(prompt, f"System prompt '{prompt.slug}' activated", prompt.id)


def _changed(prompt: PromptFields, message: str, active_id: int | None) -> PromptChangedResponse:
    return PromptChangedResponse(
        prompt_id=prompt.slug, prompt=PromptOut.of(prompt, active_id), message=message
    )
