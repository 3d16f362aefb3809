"""The one place that turns the widgets' intents into workers, and results into model state."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from desktop.api_client import ApiClient, StreamDelta, StreamDone
from desktop.errors import ErrorInfo, describe_error
from desktop.jobs import ApiJobs, Job
from desktop.local_server import LocalServer
from desktop.markdown_render import render_markdown
from desktop.models import (
    ChatListModel,
    ChatSummary,
    Message,
    MessageModel,
    Prompt,
    PromptModel,
    TokenBuffer,
)
from desktop.settings import Connection, Settings, ollama_host
from desktop.workers import Worker, WorkerPool


@dataclass(frozen=True)
class _Reply:
    """A finished stream, with its Markdown already rendered off the GUI thread."""

    done: StreamDone
    text: str
    html: str


def _now() -> str:
    return datetime.now(UTC).isoformat()


class Controller(QObject):
    """Owns the client, the workers and the models; the window only listens to its signals."""

    connection_state = Signal(str, str)  # "connecting" | "connected" | "offline", description
    error = Signal(object)  # ErrorInfo
    busy_changed = Signal(bool)  # a reply is streaming
    current_chat_changed = Signal(object)  # str | None
    models_loaded = Signal(list, str)  # names, the one to select
    usage_changed = Signal(dict)
    rate_limit_changed = Signal(object)  # RateLimit
    prompt_saved = Signal(str)
    prompt_failed = Signal(str)
    exported = Signal(str)

    def __init__(self, settings: Settings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.chats = ChatListModel(self)
        self.messages = MessageModel(self)
        self.prompts = PromptModel(self)
        self.pool = WorkerPool(parent=self)
        self.jobs = ApiJobs(self.pool, self)
        self.jobs.failed.connect(self._on_failed)
        self.jobs.rate_limit_changed.connect(self.rate_limit_changed)
        self.local_server: LocalServer | None = None
        self.current_chat_id: str | None = None
        self.model_name = settings.model
        self._stream: Worker | None = None
        self._buffer = TokenBuffer(50, self)
        self._buffer.flushed.connect(self.messages.append_text)
        self._where = ""
        self._search = ""
        self._restore_chat = settings.last_chat_id
        self._unlisted_chat: ChatSummary | None = None  # a new chat the server may not list yet

    def retry(self) -> None:
        self.jobs.retry()

    def _on_failed(self, info: ErrorInfo) -> None:
        if info.kind == "offline":
            self.connection_state.emit("offline", "Offline")
        self.error.emit(info)

    # Connection
    def connect_to(self, connection: Connection) -> None:
        """Drop any current connection and start the new one (the local server off-thread)."""
        self._disconnect()
        if connection.mode == "remote":
            self._attach(connection.url, connection.api_key, "")
            return
        self.connection_state.emit("connecting", "Starting the local server…")
        server = LocalServer(self.settings.data_dir(), connection.api_key, ollama_host())
        self.pool.start(
            lambda worker: server.start(),
            on_done=lambda url: self._attach(url, connection.api_key, "local", server),
            on_failed=lambda exc: self.jobs.report(
                exc, "Starting the local server", lambda: self.connect_to(connection)
            ),
            name="start local server",
        )

    def _attach(self, url: str, key: str, label: str, server: LocalServer | None = None) -> None:
        self.local_server = server
        self.jobs.client = ApiClient(url, key)
        self._where = "local server" if label == "local" else url
        self.refresh()

    def refresh(self) -> None:
        """Check the key and load everything the window shows."""
        self.connection_state.emit("connecting", f"Connecting to {self._where}…")
        self.jobs.run(lambda c, w: c.me(), self._on_me, "Connecting", self.refresh, latest="me")
        self.load_models()
        self.load_prompts()
        self.load_chats()

    def _on_me(self, me: dict[str, Any]) -> None:
        self.connection_state.emit("connected", f"{me.get('username', '?')} @ {self._where}")

    def _disconnect(self) -> None:
        self.stop()
        if self.jobs.client is not None:
            self.jobs.client.close()
            self.jobs.client = None
        if self.local_server is not None:
            self.local_server.stop()
            self.local_server = None
        self.current_chat_id = None
        self.messages.set_messages([])
        self.chats.set_chats([])
        self.prompts.set_prompts([])

    def shutdown(self) -> None:
        """Cancel and wait for every worker, then stop the local server: called on quit."""
        self.stop()
        self.pool.shutdown()
        self._disconnect()

    # Models and prompts
    def load_models(self) -> None:
        self.jobs.run(lambda c, w: c.models(), self._on_models, "Loading models", self.load_models)

    def _on_models(self, data: dict[str, Any]) -> None:
        names = [str(m.get("name")) for m in data.get("models") or [] if m.get("name")]
        default = str(data.get("default_model") or "")
        if self.model_name not in names:
            self.model_name = default if default in names or not names else names[0]
        self.models_loaded.emit(names, self.model_name)

    def set_model(self, name: str) -> None:
        self.model_name = name
        self.settings.model = name

    def load_prompts(self, then: Callable[[], None] | None = None) -> None:
        def loaded(prompts: list[dict[str, Any]]) -> None:
            self.prompts.set_prompts([Prompt.from_api(p) for p in prompts])
            if then is not None:
                then()

        self.jobs.run(
            lambda c, w: c.list_prompts(), loaded, "Loading prompts", self.load_prompts, "prompts"
        )

    def save_prompt(self, prompt_id: str, fields: dict[str, str]) -> None:
        def job(client: ApiClient, worker: Worker) -> str:
            if not prompt_id:
                return str(client.create_prompt(**fields)["prompt_id"])
            answer = client.update_prompt(prompt_id, **fields)
            return str(
                answer.get("prompt_id") or (answer.get("prompt") or {}).get("id") or prompt_id
            )

        self._prompt_job(
            job,
            self.prompt_saved.emit,
            "Saving the prompt",
            lambda: self.save_prompt(prompt_id, fields),
        )

    def delete_prompt(self, prompt_id: str) -> None:
        self._prompt_job(
            lambda c, w: c.delete_prompt(prompt_id),
            None,
            "Deleting the prompt",
            lambda: self.delete_prompt(prompt_id),
        )

    def activate_prompt(self, prompt_id: str) -> None:
        self._prompt_job(
            lambda c, w: c.activate_prompt(prompt_id),
            None,
            "Activating the prompt",
            lambda: self.activate_prompt(prompt_id),
        )

    def _prompt_job(
        self,
        job: Job,
        then: Callable[[Any], None] | None,
        action: str,
        retry: Callable[[], None],
    ) -> None:
        """A change to the library: reload it afterwards, and tell the library dialog."""

        def done(result: Any) -> None:
            self.load_prompts(then=(lambda: then(result)) if then else None)

        worker = self.jobs.run(job, done, action, retry)
        if worker is not None:
            worker.signals.failed.connect(
                lambda exc: self.prompt_failed.emit(describe_error(exc, action).message)
            )

    # Chats
    def load_chats(self, search: str | None = None) -> None:
        if search is not None:
            self._search = search
        query = self._search
        self.jobs.run(
            lambda c, w: c.list_chats(q=query),
            self._on_chats,
            "Loading chats",
            self.load_chats,
            latest="chats",
        )

    def _on_chats(self, chats: list[dict[str, Any]]) -> None:
        summaries = [ChatSummary.from_api(c) for c in chats]
        pending = self._unlisted_chat
        if pending is not None and any(chat.id == pending.id for chat in summaries):
            self._unlisted_chat = pending = None
        if pending is not None and not self._search:
            summaries.insert(0, pending)  # stored by the server only once its reply ends
        self.chats.set_chats(summaries)
        restore, self._restore_chat = self._restore_chat, ""
        if restore and self.current_chat_id is None and self.chats.row_of(restore) >= 0:
            self.open_chat(restore)
        self.current_chat_changed.emit(self.current_chat_id)

    def open_chat(self, chat_id: str) -> None:
        if chat_id == self.current_chat_id and self.messages.rowCount():
            return
        self.stop()
        self._set_current(chat_id)
        self.jobs.run(
            lambda c, w: [Message.from_api(m) for m in c.get_chat(chat_id)["messages"]],
            self.messages.set_messages,
            "Opening the chat",
            lambda: self.open_chat(chat_id),
            latest="open",
        )

    def new_chat(self) -> None:
        self.stop()
        self.jobs.supersede("open")  # drop a chat still loading
        self._set_current(None)
        self.messages.set_messages([])

    def _set_current(self, chat_id: str | None) -> None:
        self.current_chat_id = chat_id
        self.settings.last_chat_id = chat_id or ""
        self.current_chat_changed.emit(chat_id)

    def rename_chat(self, chat_id: str, title: str) -> None:
        self.jobs.run(
            lambda c, w: c.rename_chat(chat_id, title),
            lambda _: self.chats.rename(chat_id, title),
            "Renaming the chat",
            lambda: self.rename_chat(chat_id, title),
        )

    def delete_chat(self, chat_id: str) -> None:
        def deleted(_: object) -> None:
            if self._unlisted_chat is not None and self._unlisted_chat.id == chat_id:
                self._unlisted_chat = None
            self.chats.remove(chat_id)
            if chat_id == self.current_chat_id:
                self.new_chat()

        if chat_id == self.current_chat_id:
            self.stop()
        self.jobs.run(
            lambda c, w: c.delete_chat(chat_id),
            deleted,
            "Deleting the chat",
            lambda: self.delete_chat(chat_id),
        )

    def export_chat(self, fmt: str, path: Path) -> None:
        chat_id = self.current_chat_id
        if chat_id is None:
            return

        def job(client: ApiClient, worker: Worker) -> str:
            path.write_bytes(client.export_chat(chat_id, fmt).content)
            return str(path)

        self.jobs.run(
            job, self.exported.emit, "Exporting the chat", lambda: self.export_chat(fmt, path)
        )

    # Streaming a reply
    @property
    def busy(self) -> bool:
        return self._stream is not None

    def send(self, text: str) -> None:
        if self._stream is not None:
            return
        if self.current_chat_id is None:
            # A chat ID of our own, so the chat is known even if Stop comes before `start`.
            self._set_current(uuid.uuid4().hex)
            self._unlisted_chat = ChatSummary(self.current_chat_id or "", text[:60], _now(), 1)
            self.chats.add_first(self._unlisted_chat)
        chat_id, model = self.current_chat_id or "", self.model_name or None
        self.messages.append(Message("user", text, _now()))
        self.messages.append(Message("assistant", "", "", model or "", streaming=True))

        def job(client: ApiClient, worker: Worker) -> _Reply | None:
            stream = client.stream_chat(text, chat_id=chat_id, model=model)
            worker.on_cancel(stream.cancel)
            parts: list[str] = []
            for event in stream:
                if isinstance(event, StreamDone):
                    reply = "".join(parts)
                    return _Reply(event, reply, render_markdown(reply))
                if isinstance(event, StreamDelta):
                    parts.append(event.content)
                worker.emit_chunk(event)
            return None  # cancelled: the worker sends no result

        worker = self.jobs.run(job, None, "Sending", lambda: self.send(text))
        if worker is None:
            self.messages.remove_last(2)
            return
        self._stream = worker
        # Signals already queued when Stop is pressed still arrive: each slot checks that
        # this worker is still the current stream before it touches the messages.
        worker.signals.chunk.connect(lambda event: self._on_stream_chunk(worker, event))
        worker.signals.done.connect(lambda done: self._on_stream_done(worker, done))
        worker.signals.failed.connect(lambda exc: self._on_stream_failed(worker, chat_id))
        self.busy_changed.emit(True)

    def _on_stream_chunk(self, worker: Worker, event: object) -> None:
        if self._stream is worker and isinstance(event, StreamDelta):
            self._buffer.add(event.content)

    def _on_stream_done(self, worker: Worker, reply: _Reply) -> None:
        if self._stream is not worker:
            return
        self._buffer.flush()
        self._stream = None
        self.messages.finish_last(reply.done.finish_reason, rendered=(reply.text, reply.html))
        self.busy_changed.emit(False)
        self.usage_changed.emit(reply.done.usage)
        self.load_chats()

    def _on_stream_failed(self, worker: Worker, chat_id: str) -> None:
        """Nothing was stored: drop the turn from view, and list what the server has."""
        if self._stream is not worker:
            return
        self._buffer.clear()
        self._stream = None
        self.busy_changed.emit(False)
        if self._unlisted_chat is not None and self._unlisted_chat.id == chat_id:
            self._unlisted_chat = None  # nothing was stored, so there is no such chat
        if chat_id == self.current_chat_id:
            self.messages.remove_last(2)
        self.load_chats()

    def stop(self) -> None:
        """Cancel the streaming reply; what arrived stays, marked as stopped."""
        worker, self._stream = self._stream, None
        if worker is None:
            return
        worker.cancel()
        self._buffer.flush()
        self.messages.finish_last("cancelled")
        self.busy_changed.emit(False)
        # By the time the worker ends, the server has the partial reply; list it.
        worker.signals.finished.connect(lambda: self.load_chats())
