"""The per-user system-prompt library."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from itertools import chain, count, islice

from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from chatapp.errors import Conflict, PromptNotFound
from chatapp.extensions import db
from chatapp.models import SystemPrompt, User

MAX_SLUG_CHARS = 64
FALLBACK_SLUG = "prompt"  # for names with no ASCII letter or digit at all, e.g. only emoji
DEFAULT_SLUG = "default"
# A racing request can take the slug we picked between our check and our commit; pick again.
# Each lost race means another request won, so N simultaneous creations need at most N tries.
SLUG_ATTEMPTS = 10
# Slug candidates looked up per query. More prompts than this whose names share one slug are
# rare; they cost one more (indexed) query per batch, never a scan of the library.
SLUG_BATCH = 20


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
DEFAULT_BUILTIN = BUILTIN_PROMPTS[0]

# What the API shows of a prompt, in PromptRecord's order.
RECORD_COLUMNS = (
    SystemPrompt.id,
    SystemPrompt.slug,
    SystemPrompt.name,
    SystemPrompt.content,
    SystemPrompt.description,
    SystemPrompt.created_at,
    SystemPrompt.updated_at,
)


@dataclass(frozen=True)
class PromptRecord:
    """A prompt as the API shows it, read as plain columns (no ORM object behind it)."""

    id: int
    slug: str
    name: str
    content: str
    description: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, prompt: SystemPrompt) -> PromptRecord:
        return cls(*(getattr(prompt, column.key) for column in RECORD_COLUMNS))


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
        if builtin.slug == DEFAULT_SLUG:
            user.active_prompt = prompt


def system_prompt_for_new_chat(user: User, prompt_id: str | None = None) -> str:
    """The text a new chat snapshots: the named prompt, else the active one, else the default."""
    if prompt_id is not None:
        return get_prompt(user, prompt_id).content
    if user.active_prompt is not None:
        return user.active_prompt.content
    return DEFAULT_PROMPT_TEXT


def get_prompt(user: User, prompt_id: str, key_share: bool = False) -> SystemPrompt:
    """A user's prompt by slug, or by its exact name as the old app allowed; with `key_share`,
    its row locked against deletion until the transaction ends (PostgreSQL)."""
    query = (
        select(SystemPrompt)
        .where(SystemPrompt.user_id == user.id)
        .where(or_(SystemPrompt.slug == prompt_id, SystemPrompt.name == prompt_id))
        .order_by(SystemPrompt.slug != prompt_id)
    )
    if key_share:
        query = query.with_for_update(key_share=True)
    prompt = db.session.scalars(query).first()
    if prompt is None:
        raise PromptNotFound(prompt_id)
    return prompt


def builtin_prompt(slug: str) -> BuiltinPrompt | None:
    return next((builtin for builtin in BUILTIN_PROMPTS if builtin.slug == slug), None)


# Built once: a list request only binds the user (SQLAlchemy then reuses the compiled form).
_LIBRARY = (
    select(*RECORD_COLUMNS)
    .where(SystemPrompt.user_id == bindparam("user_id"))
    .order_by(SystemPrompt.id)
)


def library(user: User) -> list[PromptRecord]:
    """The user's library in the order it was added to, so the built-ins come first.

    Not by created_at: imported legacy prompts keep their old dates.
    """
    rows = db.session.execute(_LIBRARY, {"user_id": user.id})
    return [PromptRecord(*row) for row in rows]


def list_prompts(user: User) -> list[SystemPrompt]:
    """The library as ORM objects, in the same order, for callers that change them."""
    query = select(SystemPrompt).where(SystemPrompt.user_id == user.id).order_by(SystemPrompt.id)
    return list(db.session.scalars(query))


def create_prompt(user: User, name: str, content: str, description: str = "") -> PromptRecord:
    """A new prompt whose id is a slug of its name, unique among the user's prompts."""
    for _ in range(SLUG_ATTEMPTS):
        prompt = SystemPrompt(
            user_id=user.id,
            slug=unique_slug(user, slugify(name), name),
            name=name,
            content=content,
            description=description,
        )
        created = _inserted(prompt)
        if created is not None:
            return created
    raise Conflict(f"Could not create prompt '{name}' while others were being created; retry")


def update_prompt(user: User, prompt_id: str, changes: dict[str, str]) -> PromptRecord:
    """Change name, content or description; the id (slug) stays the same on a rename.

    One UPDATE of the row the lookup found: if a racing request deleted it meanwhile, 404.
    """
    prompt = get_prompt(user, prompt_id)
    name = changes.get("name", prompt.name)
    if name != prompt.name:
        _ensure_name_free(user, name)
    statement = (
        update(SystemPrompt)
        .where(SystemPrompt.id == prompt.id)
        .values(**changes)
        .returning(*RECORD_COLUMNS)
        .execution_options(synchronize_session=False)
    )
    try:
        row = db.session.execute(statement).first()
    except IntegrityError:
        db.session.rollback()
        raise Conflict(f"A prompt named '{name}' already exists") from None
    db.session.commit()
    if row is None:
        raise PromptNotFound(prompt_id)
    return PromptRecord(*row)


def delete_prompt(user: User, prompt_id: str) -> PromptRecord:
    """Delete a prompt; if it was the active one, none is active afterwards (ON DELETE SET
    NULL). 404 if a racing request deleted it first."""
    record = PromptRecord.of(get_prompt(user, prompt_id))
    deleted = db.session.execute(delete(SystemPrompt).where(SystemPrompt.id == record.id))
    db.session.commit()
    if deleted.rowcount == 0:
        raise PromptNotFound(prompt_id)
    return record


def activate_prompt(user: User, prompt_id: str) -> PromptRecord:
    """Make the prompt the active one; 404 if a racing request deleted it meanwhile (the
    foreign key refuses a pointer to a deleted prompt).

    The prompt's row is locked before the user's, the order a deletion takes them in (the
    prompt, then its ON DELETE SET NULL on the user): the other order could deadlock with it.
    """
    record = PromptRecord.of(get_prompt(user, prompt_id, key_share=True))
    try:
        db.session.execute(
            update(User).where(User.id == user.id).values(active_prompt_id=record.id)
        )
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise PromptNotFound(prompt_id) from None
    return record


def set_active_content(user: User, content: str) -> PromptRecord:
    """Replace the active prompt's text; with none active, (re)create `default` and activate it.

    409 if a racing request deleted the active prompt between our read and our write.
    """
    prompt = user.active_prompt or _default_prompt(user)
    prompt.content = content
    user.active_prompt = prompt
    try:
        db.session.flush()
    except (IntegrityError, StaleDataError):
        db.session.rollback()
        raise Conflict("The system prompt was changed by another request; retry") from None
    record = PromptRecord.of(prompt)
    db.session.commit()
    return record


def slugify(name: str) -> str:
    """Lowercase ASCII letters and digits joined by single dashes, at most 64 characters."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:MAX_SLUG_CHARS].rstrip("-") or FALLBACK_SLUG


def unique_slug(user: User, base: str, name: str | None = None) -> str:
    """`base`, or `base-2`, `base-3`... (shortened to fit): the first the user hasn't taken.

    The candidates are looked up a batch at a time on the (user, slug) index, so a large
    library costs what a small one does. With `name`, the same query also checks that no
    prompt of the user's has that name (Conflict if one has).
    """
    candidates = chain([base], (_with_suffix(base, f"-{n}") for n in count(2)))
    while True:
        batch = list(islice(candidates, SLUG_BATCH))
        taken = _taken_slugs(user, batch, name)
        free = next((slug for slug in batch if slug not in taken), None)
        if free is not None:
            return free


def _taken_slugs(user: User, slugs: list[str], name: str | None) -> set[str]:
    clash = SystemPrompt.slug.in_(slugs)
    if name is not None:
        clash = or_(clash, SystemPrompt.name == name)
    rows = db.session.execute(
        select(SystemPrompt.slug, SystemPrompt.name).where(SystemPrompt.user_id == user.id, clash)
    ).all()
    if name is not None and any(row.name == name for row in rows):
        raise Conflict(f"A prompt named '{name}' already exists")
    return {row.slug for row in rows}


def _with_suffix(base: str, suffix: str) -> str:
    return base[: MAX_SLUG_CHARS - len(suffix)].rstrip("-") + suffix


def _default_prompt(user: User) -> SystemPrompt:
    existing = db.session.scalars(
        select(SystemPrompt).where(
            SystemPrompt.user_id == user.id, SystemPrompt.slug == DEFAULT_SLUG
        )
    ).first()
    if existing is not None:
        return existing
    prompt = SystemPrompt(
        user_id=user.id,
        slug=DEFAULT_SLUG,
        name=free_name(user, DEFAULT_BUILTIN.name),
        description=DEFAULT_BUILTIN.description,
    )
    db.session.add(prompt)
    return prompt


def free_name(user: User, base: str) -> str:
    """`base`, or `base 2`, `base 3`... when the user already has a prompt of that name."""
    names = set(
        db.session.scalars(select(SystemPrompt.name).where(SystemPrompt.user_id == user.id))
    )
    candidates = chain([base], (f"{base} {n}" for n in count(2)))
    return next(name for name in candidates if name not in names)


def _ensure_name_free(user: User, name: str) -> None:
    taken = db.session.scalars(
        select(SystemPrompt.id).where(SystemPrompt.user_id == user.id, SystemPrompt.name == name)
    ).first()
    if taken is not None:
        raise Conflict(f"A prompt named '{name}' already exists")


def _inserted(prompt: SystemPrompt) -> PromptRecord | None:
    """Insert and commit; None (rolled back) if a unique constraint fired, e.g. in a race."""
    db.session.add(prompt)
    try:
        db.session.flush()  # fills the id and timestamps, so no query reads them back
        record = PromptRecord.of(prompt)
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        return None
    return record
