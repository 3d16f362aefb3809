"""The chat session: the sidebar's chats, the open chat, the model, and streaming a reply."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from functools import partial
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from desktop.api_types import ChatSummary, ModelList, StreamDelta
from desktop.controllers.session_jobs import (
    EarlierMessages,
    Reply,
    chat_list,
    export_to,
    history,
    stopped_read_back,
    stream_reply,
)
from desktop.jobs import ApiJobs, Job
from desktop.message_model import Message, MessageModel, TokenBuffer, now
from desktop.models import ChatListModel
from desktop.settings import Settings
from desktop.workers import Worker


class ChatSessionController(QObject):
    """Owns the chat and message models; the window listens to its signals."""

    busy_changed = Signal(bool)  # a reply is streaming
    current_chat_changed = Signal(object)  # str | None
    models_loaded = Signal(list, str)  # names, the one to select
    usage_changed = Signal(object)  # Usage
    exported = Signal(str)
    turn_started = Signal(str, str)  # chat id, text: the draft is on its way
    send_failed = Signal(str, str)  # chat id, text: the draft goes back to its chat
    reply_finished = Signal(str, str)  # chat id, the reply's text
    options_changed = Signal(str, object)  # the open chat's model, temperature (float | None)

    def __init__(self, settings: Settings, jobs: ApiJobs, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.jobs = jobs
        self.chats = ChatListModel(self)
        self.messages = MessageModel(self)
        self.current_chat_id: str | None = None
        self.model_name = settings.model
        self.temperature = settings.temperature
        self._stream: Worker | None = None
        self._undo: list[Message] | None = None  # the rows a failed branch turn puts back
        self._buffer = TokenBuffer(50, self)
        self._buffer.flushed.connect(self.messages.append_text)
        self._search = ""
        self._restore_chat = settings.last_chat_id
        self._unlisted_chat: ChatSummary | None = None  # a new chat the server may not list yet

    def clear(self) -> None:
        """Forget the chats of a connection that is going away."""
        self.stop()
        self.current_chat_id = None
        self.messages.set_messages([])
        self.chats.set_chats([])

    def load_models(self) -> None:
        self.jobs.run(lambda c, w: c.models(), self._on_models, "Loading models")

    def _on_models(self, models: ModelList) -> None:
        names, default = models.names, models.default_model
        if self.model_name not in names:
            self.model_name = default if default in names or not names else names[0]
        self.models_loaded.emit(names, self.model_name)

    def set_model(self, name: str) -> None:
        """The model for this chat's next turns, and for new chats."""
        self.model_name = self.settings.model = name
        self._remember_options()

    def set_temperature(self, temperature: float | None) -> None:
        self.temperature = self.settings.temperature = temperature
        self._remember_options()

    def _remember_options(self) -> None:
        if self.current_chat_id is not None:
            self.settings.set_chat_options(self.current_chat_id, self.model_name, self.temperature)

    def load_chats(self, search: str | None = None) -> None:
        if search is not None:
            self._search = search
        self.jobs.run_planned(self._list_chats, self._on_chats, "Loading chats", latest="chats")

    def _list_chats(self) -> Job:
        return partial(chat_list, query=self._search)  # on Retry, the search as it is then

    def _on_chats(self, summaries: list[ChatSummary]) -> None:
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
        def plan() -> Job | None:
            if chat_id == self.current_chat_id and self.messages.rowCount():
                return None
            self.stop()
            self._set_current(chat_id)
            return partial(history, chat_id=chat_id)

        self.jobs.run_planned(plan, self.messages.set_messages, "Opening the chat", latest="open")

    def new_chat(self) -> None:
        self.stop()
        self.jobs.supersede("open")  # drop a chat still loading
        self._set_current(None)
        self.messages.set_messages([])

    def _set_current(self, chat_id: str | None) -> None:
        self.current_chat_id = chat_id
        self.settings.last_chat_id = chat_id or ""
        options = self.settings.chat_options(chat_id) if chat_id else None
        if options is not None:  # else the chat goes on with the model picked last
            self.model_name, self.temperature = options
        self.current_chat_changed.emit(chat_id)
        self.options_changed.emit(self.model_name, self.temperature)

    def rename_chat(self, chat_id: str, title: str) -> None:
        self.jobs.run(
            lambda c, w: c.rename_chat(chat_id, title),
            lambda _: self.chats.rename(chat_id, title),
            "Renaming the chat",
        )

    def delete_chat(self, chat_id: str) -> None:
        def plan() -> Job:
            if chat_id == self.current_chat_id:
                self.stop()
            return lambda client, worker: client.delete_chat(chat_id)

        self.jobs.run_planned(plan, lambda _: self._on_deleted(chat_id), "Deleting the chat")

    def _on_deleted(self, chat_id: str) -> None:
        if self._unlisted_chat is not None and self._unlisted_chat.id == chat_id:
            self._unlisted_chat = None
        self.chats.remove(chat_id)
        self.settings.forget_chat(chat_id)
        if chat_id == self.current_chat_id:
            self.new_chat()

    def export_chat(self, fmt: str, path: Path) -> None:
        if self.current_chat_id is not None:
            job = partial(export_to, chat_id=self.current_chat_id, fmt=fmt, path=path)
            self.jobs.run(job, self.exported.emit, "Exporting the chat")

    # Streaming a reply
    @property
    def busy(self) -> bool:
        return self._stream is not None

    def send(self, text: str) -> None:
        """Send `text` into the chat open now: a Retry sends it there too, even after a switch."""
        chat_id = self.current_chat_id or uuid.uuid4().hex  # our own ID, known before `start`
        self.stream_turn(
            chat_id,
            lambda: self._begin_turn(text, chat_id),
            "Sending",
            on_failed=lambda error: self.send_failed.emit(chat_id, text),
        )

    def stream_turn(
        self,
        chat_id: str,
        prepare: Callable[[], Job | None],
        action: str,
        on_failed: Callable[[BaseException], None] | None = None,
    ) -> None:
        """Stream a reply into `chat_id`: `prepare` shows the turn, on the GUI thread at each
        attempt, and returns the job that streams it (None: not now)."""
        self.jobs.run_planned(
            prepare,
            None,
            action,
            on_start=lambda worker: self._watch(worker, chat_id),
            on_failed=on_failed,
        )

    def show_branch(self, row: int, turn: list[Message]) -> None:
        """Show `turn` in place of the rows from `row` on; a failed turn puts them back."""
        self._undo = self.messages.messages()
        self.messages.cut_from(row)
        for message in turn:
            self.messages.append(message)

    def _begin_turn(self, text: str, chat_id: str) -> Job | None:
        """Show the turn in its chat (opening it again if the user has moved on) and return
        the job that streams it."""
        if self._stream is not None:
            return None
        reopen = chat_id != self.current_chat_id and self.chats.row_of(chat_id) >= 0
        if chat_id != self.current_chat_id:
            self.new_chat()
            self._set_current(chat_id)
        if self.chats.row_of(chat_id) < 0:
            self._unlisted_chat = ChatSummary(chat_id, text[:60], now(), 1)
            self.chats.add_first(self._unlisted_chat)
        self.turn_started.emit(chat_id, text)
        self._undo = None  # a failure drops the two rows added here
        self._remember_options()
        model, temperature = self.model_name or None, self.temperature
        self.messages.append(Message("user", text, now()))
        self.messages.append(Message("assistant", "", "", model or "", streaming=True))
        return partial(
            stream_reply,
            text=text,
            chat_id=chat_id,
            model=model,
            temperature=temperature,
            with_history=reopen,
        )

    def _watch(self, worker: Worker, chat_id: str) -> None:
        self._stream = worker
        # Signals already queued when Stop is pressed still arrive: each slot checks that
        # this worker is still the current stream before it touches the messages.
        worker.signals.chunk.connect(lambda event: self._on_stream_chunk(worker, event))
        worker.signals.done.connect(lambda reply: self._on_stream_done(worker, reply, chat_id))
        worker.signals.failed.connect(lambda exc: self._on_stream_failed(worker, chat_id))
        self.busy_changed.emit(True)

    def _on_stream_chunk(self, worker: Worker, event: object) -> None:
        if self._stream is not worker:
            return
        if isinstance(event, StreamDelta):
            self._buffer.add(event.content)
        elif isinstance(event, EarlierMessages):  # the chat a Retry reopened
            turn = [self.messages.message(row) for row in range(self.messages.rowCount())]
            self.messages.set_messages([*event.messages, *turn])

    def _on_stream_done(self, worker: Worker, reply: Reply, chat_id: str) -> None:
        if self._stream is not worker:
            return
        self._buffer.flush()
        self._stream, self._undo = None, None
        if reply.messages is not None and chat_id == self.current_chat_id:
            self.messages.adopt(reply.messages)  # first: the reply is rendered once, below
        self.messages.finish_last(reply.done.finish_reason, rendered=(reply.text, reply.html))
        self.busy_changed.emit(False)
        self.usage_changed.emit(reply.done.usage)
        self.reply_finished.emit(chat_id, reply.text)
        self.load_chats()

    def _on_stream_failed(self, worker: Worker, chat_id: str) -> None:
        """Nothing was stored: drop the turn from view, and list what the server has.
        (`send_failed` then gives the draft back to its chat.)"""
        if self._stream is not worker:
            return
        self._buffer.clear()
        self._stream = None
        self.busy_changed.emit(False)
        if self._unlisted_chat is not None and self._unlisted_chat.id == chat_id:
            self._unlisted_chat = None  # nothing was stored, so there is no such chat
            self.chats.remove(chat_id)  # (its draft stays: a Retry lists it again)
            self.settings.forget_chat(chat_id)
        undo, self._undo = self._undo, None
        if chat_id == self.current_chat_id and undo is not None:
            self.messages.set_messages(undo)
        elif chat_id == self.current_chat_id:
            self.messages.remove_last(2)
        self.load_chats()

    def stop(self) -> None:
        """Cancel the streaming reply; what arrived stays, marked as stopped."""
        worker, self._stream = self._stream, None
        if worker is None:
            return
        self._undo = None  # what arrived stays
        worker.cancel()
        self._buffer.flush()
        self.messages.finish_last("cancelled")
        self.busy_changed.emit(False)
        # By the time the worker ends, the server has the partial reply; list it, and take
        # its id, so that it too can be regenerated or deleted.
        worker.when_ended(self.load_chats)
        worker.when_ended(partial(self._read_back, self.current_chat_id))

    def _read_back(self, chat_id: str | None) -> None:
        if chat_id is not None and chat_id == self.current_chat_id:
            job = partial(stopped_read_back, chat_id=chat_id)
            self.jobs.run(job, self._adopt, "Reading the chat", latest="open")

    def _adopt(self, messages: list[Message] | None) -> None:
        if messages is not None and not self.busy:
            self.messages.adopt(messages)
