"""The chat session's jobs, run off the GUI thread: stream a reply (to a new message, an edit,
or again), read, switch, cut or export a chat."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from desktop.api_client import ApiClient, ChatStream
from desktop.api_types import ApiClientError, ChatMessage, ChatSummary, StreamDelta, StreamDone
from desktop.markdown_render import render_markdown
from desktop.message_model import SHOWN_AT_FIRST, Message
from desktop.workers import Worker


@dataclass(frozen=True)
class EarlierMessages:
    """The history of a chat that a Retry reopened, sent ahead of the reply's first token."""

    messages: list[Message]


@dataclass(frozen=True)
class Reply:
    """A finished stream, with its Markdown already rendered off the GUI thread, and the chat
    as the server then reads it (None if that read failed: the reply itself is stored)."""

    done: StreamDone
    text: str
    html: str
    messages: list[Message] | None = None


def stream_reply(
    client: ApiClient,
    worker: Worker,
    *,
    text: str,
    chat_id: str,
    model: str | None,
    temperature: float | None = None,
    with_history: bool = False,
    parent_id: str | None = None,
) -> Reply | None:
    """Stream the reply to `text`, passing each event on as a chunk; None when cancelled.
    `with_history` first sends the chat's earlier messages, for a chat the view reopened;
    `parent_id` puts `text` below that message, as an edit."""
    if with_history:
        worker.emit_chunk(EarlierMessages(history(client, worker, chat_id=chat_id)))
    stream = client.stream_chat(
        text, chat_id=chat_id, model=model, temperature=temperature, parent_id=parent_id
    )
    return _follow(client, worker, stream, chat_id)


def stream_regeneration(
    client: ApiClient,
    worker: Worker,
    *,
    chat_id: str,
    message_id: str | None,
    model: str | None,
    temperature: float | None = None,
) -> Reply | None:
    """Stream another answer in place of the reply `message_id`, as `stream_reply` does."""
    stream = client.stream_regenerate(chat_id, message_id, model=model, temperature=temperature)
    return _follow(client, worker, stream, chat_id)


def _follow(client: ApiClient, worker: Worker, stream: ChatStream, chat_id: str) -> Reply | None:
    worker.on_cancel(stream.cancel)
    parts: list[str] = []
    for event in stream:
        if isinstance(event, StreamDone):
            reply = "".join(parts)
            return Reply(event, reply, render_markdown(reply), _read_back(client, chat_id))
        if isinstance(event, StreamDelta):
            parts.append(event.content)
        worker.emit_chunk(event)
    return None  # cancelled: the worker sends no result


def _read_back(client: ApiClient, chat_id: str) -> list[Message] | None:
    """The chat after a turn, for the ids and branches of its new messages."""
    try:
        return _shown(client.get_chat(chat_id).messages)
    except ApiClientError:
        return None  # the turn is stored all the same; its ids come with the next read


STOPPED_READS = 20  # a stopped reply is stored once the server sees the client gone
STOPPED_READ_GAP = 0.1


def stopped_read_back(client: ApiClient, worker: Worker, *, chat_id: str) -> list[Message] | None:
    """The chat once the server has stored the reply just stopped, for its id; None if that
    does not come soon (its actions then come with the next read of the chat)."""
    for _ in range(STOPPED_READS):
        try:
            stored = client.get_chat(chat_id).messages
        except ApiClientError:
            stored = []  # a new chat is not there before its first turn is stored
        if stored and stored[-1].finish_reason == "cancelled":
            return _shown(stored)
        if worker.cancelled:
            return None
        time.sleep(STOPPED_READ_GAP)
    return None


def chat_list(client: ApiClient, worker: Worker, *, query: str) -> list[ChatSummary]:
    return client.list_chats(q=query)


def history(client: ApiClient, worker: Worker, *, chat_id: str) -> list[Message]:
    """The messages of a chat, as the transcript shows them."""
    return _shown(client.get_chat(chat_id).messages)


def switched_to(
    client: ApiClient, worker: Worker, *, chat_id: str, message_id: str
) -> list[Message]:
    """The chat on the branch through `message_id`, made current."""
    return _shown(client.switch_branch(chat_id, message_id).messages)


def branch_deleted(
    client: ApiClient, worker: Worker, *, chat_id: str, message_id: str
) -> list[Message]:
    """The chat after removing `message_id` and all below it."""
    client.delete_branch(chat_id, message_id)
    return history(client, worker, chat_id=chat_id)


def _shown(stored: list[ChatMessage]) -> list[Message]:
    """Messages for the transcript; the latest ones already rendered here, off the GUI thread
    (highlighting code takes a while)."""
    messages = [Message.of(message) for message in stored]
    for message in messages[-SHOWN_AT_FIRST:]:
        message.rendered()
    return messages


def export_to(client: ApiClient, worker: Worker, *, chat_id: str, fmt: str, path: Path) -> str:
    """Save the chat as Markdown or JSON; the path written."""
    path.write_bytes(client.export_chat(chat_id, fmt).content)
    return str(path)
