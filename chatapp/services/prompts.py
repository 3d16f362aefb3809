"""The per-user system-prompt library."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select

from chatapp.errors import PromptNotFound
from chatapp.extensions import db
from chatapp.models import SystemPrompt, User


@dataclass(frozen=True)
class BuiltinPrompt:
    slug: str
    name: str
    description: str
    content: str


DEFAULT_PROMPT_TEXT = (
    "You are a helpful, honest assistant. Answer clearly and concisely, say when you are not "
    "sure, and use Markdown when it makes the answer easier to read."
)

BUILTIN_PROMPTS = (
    BuiltinPrompt(
        "default", "Default", "A helpful general-purpose assistant.", DEFAULT_PROMPT_TEXT
    ),
    BuiltinPrompt(
        "code-assistant",
        "Code Assistant",
        "A senior programmer who writes and reviews code.",
        "You are an expert software engineer. Write correct, idiomatic, well-tested code, explain "
        "the trade-offs briefly, and put code in fenced Markdown blocks with the language named.",
    ),
    BuiltinPrompt(
        "research-assistant",
        "Research Assistant",
        "A careful researcher who separates facts from guesses.",
        "You are a meticulous research assistant. Structure answers with headings and bullet "
        "points, distinguish established facts from speculation, and point out what would need "
        "checking in a primary source.",
    ),
)


def seed_library(user: User) -> None:
    """Give a new user copies of the built-in prompts, with `default` active."""
    for builtin in BUILTIN_PROMPTS:
        prompt = SystemPrompt(
            user=user,
            slug=builtin.slug,
            name=builtin.name,
            description=builtin.description,
            content=builtin.content,
        )
        db.session.add(prompt)
        if builtin.slug == "default":
            user.active_prompt = prompt


def system_prompt_for_new_chat(user: User, prompt_id: str | None = None) -> str:
    """The text a new chat snapshots: the named prompt, else the active one, else the default."""
    if prompt_id is not None:
        return get_prompt(user, prompt_id).content
    if user.active_prompt is not None:
        return user.active_prompt.content
    return DEFAULT_PROMPT_TEXT


def get_prompt(user: User, prompt_id: str) -> SystemPrompt:
    """A user's prompt by slug, or by its exact name as the old app allowed."""
    prompt = db.session.scalars(
        select(SystemPrompt)
        .where(SystemPrompt.user_id == user.id)
        .where(or_(SystemPrompt.slug == prompt_id, SystemPrompt.name == prompt_id))
        .order_by(SystemPrompt.slug != prompt_id)
    ).first()
    if prompt is None:
        raise PromptNotFound(prompt_id)
    return prompt
