"""A chat as a downloadable file: Markdown to read, JSON (the history shape) to process."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chatapp.models import Chat, Message
from chatapp.schemas.chat import ChatHistory

MIMETYPES = {"markdown": "text/markdown", "json": "application/json"}  # Flask adds charset
EXTENSIONS = {"markdown": "md", "json": "json"}
ROLE_HEADINGS = {"system": "System prompt", "user": "User", "assistant": "Assistant"}


@dataclass(frozen=True)
class ExportFile:
    filename: str
    mimetype: str
    content: str


def export_file(chat: Chat, messages: Sequence[Message], file_format: str) -> ExportFile:
    """The chat as `markdown` or `json`."""
    if file_format == "json":
        content = ChatHistory.of(chat, messages).model_dump_json(indent=2)
    else:
        content = to_markdown(chat, messages)
    filename = f"{chat.chat_id}.{EXTENSIONS[file_format]}"
    return ExportFile(filename, MIMETYPES[file_format], content)


def to_markdown(chat: Chat, messages: Sequence[Message]) -> str:
    lines = [
        f"# {chat.title}",
        "",
        f"- Chat ID: `{chat.chat_id}`",
        f"- Created: {chat.created_at.isoformat()}",
        f"- Updated: {chat.updated_at.isoformat()}",
    ]
    if chat.model:
        lines.append(f"- Model: {chat.model}")
    for message in messages:
        lines += ["", f"## {_heading(message)}", "", message.content]
    return "\n".join(lines) + "\n"


def _heading(message: Message) -> str:
    parts = [ROLE_HEADINGS.get(message.role, message.role), message.created_at.isoformat()]
    if message.model:
        parts.append(message.model)
    if message.finish_reason and message.finish_reason != "stop":
        parts.append(f"({message.finish_reason})")
    return " · ".join(parts)
