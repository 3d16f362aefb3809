"""The chat session's jobs, run off the GUI thread: stream a reply, read or export a chat."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from desktop.api_client import ApiClient
from desktop.api_types import ChatSummary, StreamDelta, StreamDone
from desktop.markdown_render import render_markdown
from desktop.message_model import SHOWN_AT_FIRST, Message
from desktop.workers import Worker


@dataclass(frozen=True)
class EarlierMessages:
    """The history of a chat that a Retry reopened, sent ahead of the reply's first token."""

    messages: list[Message]


@dataclass(frozen=True)
class Reply:
    """A finished stream, with its Markdown already rendered off the GUI thread."""

    done: StreamDone
    text: str
    html: str


def stream_reply(
    client: ApiClient,
    worker: Worker,
    *,
    text: str,
    chat_id: str,
    model: str | None,
    temperature: float | None = None,
    with_history: bool = False,
) -> Reply | None:
    """Stream the reply to `text`, passing each event on as a chunk; None when cancelled.
    `with_history` first sends the chat's earlier messages, for a chat the view reopened."""
    if with_history:
        worker.emit_chunk(EarlierMessages(history(client, worker, chat_id=chat_id)))
    stream = client.stream_chat(text, chat_id=chat_id, model=model, temperature=temperature)
    worker.on_cancel(stream.cancel)
    parts: list[str] = []
    for event in stream:
        if isinstance(event, StreamDone):
            reply = "".join(parts)
            return Reply(event, reply, render_markdown(reply))
        if isinstance(event, StreamDelta):
            parts.append(event.content)
        worker.emit_chunk(event)
    return None  # cancelled: the worker sends no result


def chat_list(client: ApiClient, worker: Worker, *, query: str) -> list[ChatSummary]:
    return client.list_chats(q=query)


def history(client: ApiClient, worker: Worker, *, chat_id: str) -> list[Message]:
    """The messages of a chat, as the transcript shows them; the latest ones already rendered
    here, off the GUI thread (highlighting code takes a while)."""
    messages = [Message.of(message) for message in client.get_chat(chat_id).messages]
    for message in messages[-SHOWN_AT_FIRST:]:
        message.rendered()
    return messages


def export_to(client: ApiClient, worker: Worker, *, chat_id: str, fmt: str, path: Path) -> str:
    """Save the chat as Markdown or JSON; the path written."""
    path.write_bytes(client.export_chat(chat_id, fmt).content)
    return str(path)
