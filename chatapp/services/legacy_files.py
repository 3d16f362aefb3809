"""Reading the old app's files: chats and prompts, each an index plus one JSON file per item."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from chatapp.models import ROLES
from chatapp.schemas.prompts import CreatePrompt, SetActivePrompt
from chatapp.services.chats import CHAT_ID_RE, make_title

INDEX_FILE = "index.json"
MAX_TITLE_CHARS = 200  # the chats.title column


class LegacyDataError(Exception):
    """A legacy file that can't be imported; the message says why."""


@dataclass(frozen=True)
class LegacyMessage:
    role: str
    content: str
    created_at: datetime


@dataclass(frozen=True)
class LegacyChat:
    chat_id: str
    title: str
    created_at: datetime
    updated_at: datetime
    messages: list[LegacyMessage]


@dataclass(frozen=True)
class LegacyPrompt:
    slug: str
    name: str
    content: str
    description: str
    created_at: datetime | None
    updated_at: datetime | None


def read_object(path: Path) -> dict[str, Any]:
    """A JSON file whose top level is an object."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise LegacyDataError("the file is missing") from exc
    except (OSError, ValueError) as exc:  # ValueError covers bad JSON and bad UTF-8
        raise LegacyDataError(f"not readable JSON ({exc})") from exc
    if not isinstance(data, dict):
        raise LegacyDataError("the top level is not a JSON object")
    return data


def read_index(folder: Path, key: str) -> dict[str, dict[str, Any]]:
    """`{"<key>": {id: entry}}` from the folder's index.json; {} when there is none."""
    path = folder / INDEX_FILE
    if not path.exists():
        return {}
    entries = read_object(path).get(key)
    if not isinstance(entries, dict):
        raise LegacyDataError(f"no '{key}' object")
    return {
        str(item_id): entry if isinstance(entry, dict) else {} for item_id, entry in entries.items()
    }


def item_ids(folder: Path, index: Mapping[str, Any]) -> list[str]:
    """The index's ids in its order, then any `<id>.json` the index forgot, sorted."""
    on_disk = sorted(path.stem for path in folder.glob("*.json") if path.name != INDEX_FILE)
    return [*index, *(item_id for item_id in on_disk if item_id not in index)]


def is_safe_id(item_id: str) -> bool:
    """Letters, digits, `_` and `-` only: such an id can't leave the folder as a file name."""
    return bool(CHAT_ID_RE.fullmatch(item_id))


def parse_timestamp(value: object) -> datetime | None:
    """An ISO 8601 string as aware UTC (the old app wrote naive local times: taken as UTC)."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise LegacyDataError(f"timestamp {value!r} is not a string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise LegacyDataError(f"timestamp {value!r} is not ISO 8601") from exc
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def parse_chat(chat_id: str, doc: Mapping[str, Any], entry: Mapping[str, Any]) -> LegacyChat:
    """A chat file `doc` (with its index entry for what it lacks) as one importable chat."""
    raw_messages = doc.get("messages")
    if not isinstance(raw_messages, list) or not raw_messages:
        raise LegacyDataError("no 'messages' list, or an empty one")
    created = parse_timestamp(doc.get("created_at")) or parse_timestamp(entry.get("created_at"))
    messages = _parse_messages(raw_messages, created)
    created = created or messages[0].created_at
    updated = (
        parse_timestamp(doc.get("last_updated"))
        or parse_timestamp(entry.get("last_updated"))
        or messages[-1].created_at
    )
    title = _title(entry.get("title") or doc.get("title"), messages)
    return LegacyChat(chat_id, title, created, max(updated, created), messages)


def _parse_messages(raw_messages: list[Any], created: datetime | None) -> list[LegacyMessage]:
    # A message without a timestamp (the old app never gave the system message one) takes the
    # previous message's, or the chat's creation time; the last resort is the first one found.
    fallback = created or _first_timestamp(raw_messages)
    messages = []
    for number, raw in enumerate(raw_messages, start=1):
        message = _parse_message(number, raw, fallback)
        messages.append(message)
        fallback = message.created_at
    return messages


def _parse_message(number: int, raw: object, fallback: datetime | None) -> LegacyMessage:
    if not isinstance(raw, dict):
        raise LegacyDataError(f"message {number} is not an object")
    role, content = raw.get("role"), raw.get("content")
    if role not in ROLES:
        raise LegacyDataError(f"message {number} has an unknown role {role!r}")
    if not isinstance(content, str) or "\x00" in content:
        raise LegacyDataError(f"message {number} has no text content, or contains NUL")
    created = parse_timestamp(raw.get("timestamp")) or fallback
    if created is None:
        raise LegacyDataError("no timestamp at all, neither the chat's nor any message's")
    return LegacyMessage(role, content, created)


def _first_timestamp(raw_messages: list[Any]) -> datetime | None:
    for raw in raw_messages:
        if isinstance(raw, dict) and raw.get("timestamp") is not None:
            return parse_timestamp(raw["timestamp"])
    return None


def _title(indexed: object, messages: list[LegacyMessage]) -> str:
    """The index entry's title when it has one, else the first user message, as chats do."""
    if isinstance(indexed, str) and indexed.strip() and "\x00" not in indexed:
        return " ".join(indexed.split())[:MAX_TITLE_CHARS]
    first_user = next((m.content for m in messages if m.role == "user"), "")
    return make_title(first_user)


def parse_prompt(slug: str, doc: Mapping[str, Any], entry: Mapping[str, Any]) -> LegacyPrompt:
    """A prompt file, completed from its index entry, checked against the API's own limits."""
    merged = {**entry, **doc}
    fields = {
        "name": merged.get("name"),
        "content": merged.get("content"),
        "description": merged.get("description") or "",
    }
    try:
        checked = CreatePrompt.model_validate(fields)
    except ValidationError as exc:
        raise LegacyDataError(validation_reason(exc)) from exc
    return LegacyPrompt(
        slug=slug,
        name=checked.name,
        content=checked.content,
        description=checked.description,
        created_at=parse_timestamp(merged.get("created_at")),
        updated_at=parse_timestamp(merged.get("updated_at")),
    )


def read_active_text(path: Path) -> str:
    """system_prompt.txt, stripped as the old app read it, within the API's limits."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except (OSError, ValueError) as exc:
        raise LegacyDataError(f"not readable UTF-8 text ({exc})") from exc
    try:
        return SetActivePrompt.model_validate({"prompt": text}).prompt
    except ValidationError as exc:
        raise LegacyDataError(validation_reason(exc)) from exc


def validation_reason(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in err['loc']) or 'value'}: {err['msg']}"
        for err in exc.errors()
    )
