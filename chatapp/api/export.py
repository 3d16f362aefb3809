"""A chat as a downloadable file: Markdown of its current branch to read, JSON of its whole
tree (each message with its parent id) to process."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from chatapp.models import Chat
from chatapp.schemas.chat import ChatTree, StoredMessageFields
from chatapp.services import chats, tree

MIMETYPES = {"markdown": "text/markdown", "json": "application/json"}  # Flask adds charset
EXTENSIONS = {"markdown": "md", "json": "json"}
ROLE_HEADINGS = {"system": "System prompt", "user": "User", "assistant": "Assistant"}


@dataclass(frozen=True)
class ExportFile:
    filename: str
    mimetype: str
    content: str


def export_file(chat: Chat, file_format: str) -> ExportFile:
    """The chat as `markdown` (its current branch) or `json` (its whole tree)."""
    if file_format == "json":
        content = ChatTree.of(chat, chats.chat_messages(chat.id)).model_dump_json(indent=2)
    else:
        content = to_markdown(chat, tree.current_branch(chat))
    filename = f"{chat.chat_id}.{EXTENSIONS[file_format]}"
    return ExportFile(filename, MIMETYPES[file_format], content)


def to_markdown(chat: Chat, messages: Sequence[StoredMessageFields]) -> str:
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


def _heading(message: StoredMessageFields) -> str:
    parts = [ROLE_HEADINGS.get(message.role, message.role), message.created_at.isoformat()]
    if message.model:
        parts.append(message.model)
    if message.finish_reason and message.finish_reason != "stop":
        parts.append(f"({message.finish_reason})")
    return " · ".join(parts)
