"""Branches of the open chat: edit a message and resend it, regenerate a reply, switch to
another answer, delete a branch. Each turns into a job of the chat session."""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import QObject, Signal

from desktop.controllers.chat_session import ChatSessionController
from desktop.controllers.session_jobs import (
    branch_deleted,
    stream_regeneration,
    stream_reply,
    switched_to,
)
from desktop.jobs import Job
from desktop.message_model import Message, now


class BranchController(QObject):
    """Turns the transcript's branch intents into streamed turns and reads of the chat."""

    edit_started = Signal(str)  # the text to edit: the composer shows it
    edit_ended = Signal()  # sent or given up: the composer goes back to the draft
    switched = Signal(int)  # the row of the message switched to
    busy_refused = Signal(str)  # why nothing happened

    def __init__(self, session: ChatSessionController, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session = session
        self.messages = session.messages
        self.editing: Message | None = None
        self._chat_id: str | None = None
        session.current_chat_changed.connect(self._on_chat)

    def _on_chat(self, chat_id: str | None) -> None:
        """An edit belongs to its chat: going to another one drops it."""
        if chat_id != self._chat_id:
            self._chat_id = chat_id
            self.cancel_edit()

    def _ready(self) -> bool:
        """Nothing streams and no edit waits: one change to the tree at a time, so that an
        edit's text is never lost under it."""
        if self.session.busy:
            self.busy_refused.emit("Wait for the reply to finish (or stop it) first")
        elif self.editing is not None:
            self.busy_refused.emit("Send the edited message, or cancel it (Esc), first")
        idle = not self.session.busy and self.editing is None
        return idle and self.session.current_chat_id is not None

    # Edit and resend
    def edit_last(self) -> None:
        row = self.messages.last_row("user")
        if row >= 0:
            self.begin_edit(row)

    def begin_edit(self, row: int) -> None:
        message = self.messages.message(row)
        if message.role == "user" and message.id and self._ready():
            self._edit(message, message.content)

    def _edit(self, message: Message, text: str) -> None:
        if self.editing is not None and self.editing is not message:
            self.messages.mark_editing(self.editing, False)
        self.editing = message
        self.messages.mark_editing(message, True)
        self.edit_started.emit(text)

    def cancel_edit(self) -> None:
        if self.editing is not None:
            self.messages.mark_editing(self.editing, False)
            self.editing = None
            self.edit_ended.emit()

    def submit_edit(self, text: str) -> None:
        """Send `text` as a new answer to what the edited message answered: a new branch."""
        message, chat_id = self.editing, self.session.current_chat_id
        if message is None or chat_id is None:
            return
        self.cancel_edit()
        self.session.stream_turn(
            chat_id,
            lambda: self._edit_turn(chat_id, message, text),
            "Sending the edited message",
            on_failed=lambda error: self._edit_failed(chat_id, message, text),
        )

    def _edit_turn(self, chat_id: str, message: Message, text: str) -> Job | None:
        row = self._row_in(chat_id, message.id)
        if row < 0:
            return None
        self.cancel_edit()  # a Retry from the banner sends the text the editor got back
        model = self.session.model_name or None
        turn = [Message("user", text, now()), _streaming(model)]
        self.session.show_branch(row, turn)
        temperature = self.session.temperature
        return partial(
            stream_reply,
            text=text,
            chat_id=chat_id,
            model=model,
            temperature=temperature,
            parent_id=message.parent_id,
        )

    def _edit_failed(self, chat_id: str, message: Message, text: str) -> None:
        """The edited text goes back into the editor, for another try."""
        if chat_id == self.session.current_chat_id and self._row_in(chat_id, message.id) >= 0:
            self._edit(message, text)

    # Regenerate
    def regenerate_last(self) -> None:
        row = self.messages.last_row("assistant")
        if row >= 0:
            self.regenerate(row)

    def regenerate(self, row: int) -> None:
        """Another answer to the question the reply in `row` answers, by the picker's model."""
        chat_id, message = self.session.current_chat_id, self.messages.message(row)
        if chat_id is None or message.role != "assistant" or not self._ready():
            return
        self.session.stream_turn(
            chat_id, lambda: self._regenerate_turn(chat_id, message.id), "Regenerating the reply"
        )

    def _regenerate_turn(self, chat_id: str, message_id: str) -> Job | None:
        row = self._row_in(chat_id, message_id)
        if row < 0:
            return None
        model = self.session.model_name or None
        self.session.show_branch(row, [_streaming(model)])
        return partial(
            stream_regeneration,
            chat_id=chat_id,
            message_id=message_id,
            model=model,
            temperature=self.session.temperature,
        )

    # Switch and delete
    def switch(self, message_id: str) -> None:
        """Show the branch through `message_id`, another answer to the same parent."""
        chat_id = self.session.current_chat_id
        if chat_id is not None and self._ready():
            job = partial(switched_to, chat_id=chat_id, message_id=message_id)
            self._read(chat_id, job, "Switching the branch", message_id)

    def delete(self, row: int) -> None:
        """Remove the message in `row` and all below it (the window has asked the user)."""
        chat_id, message = self.session.current_chat_id, self.messages.message(row)
        if chat_id is not None and message.id and message.role != "system" and self._ready():
            job = partial(branch_deleted, chat_id=chat_id, message_id=message.id)
            self._read(chat_id, job, "Deleting the branch")

    def _read(self, chat_id: str, job: Job, action: str, shown_id: str = "") -> None:
        """Run `job`, which answers the chat as it then reads, and show that."""

        def plan() -> Job | None:
            still_open = chat_id == self.session.current_chat_id
            return job if still_open and not self.session.busy else None

        show = partial(self._show, shown_id=shown_id)
        self.session.jobs.run_planned(plan, show, action, latest="open")

    def _show(self, messages: list[Message], shown_id: str) -> None:
        self.messages.set_messages(messages)
        if self.messages.row_of(shown_id) >= 0:
            self.switched.emit(self.messages.row_of(shown_id))
        self.session.load_chats()  # its time and message count have changed

    def _row_in(self, chat_id: str, message_id: str) -> int:
        """The row of that message, if it is shown in that chat and nothing streams."""
        if chat_id != self.session.current_chat_id or self.session.busy:
            return -1
        return self.messages.row_of(message_id)


def _streaming(model: str | None) -> Message:
    return Message("assistant", "", "", model or "", streaming=True)
