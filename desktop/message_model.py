"""The messages of the open chat as a Qt list model, and the buffer that batches streamed text."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import QAbstractListModel, QModelIndex, QObject, Qt, QTimer, Signal

from desktop.api_types import ChatMessage
from desktop.markdown_render import render_markdown
from desktop.models import FINISH_ROLE, Index

SHOWN_AT_FIRST = 40  # messages the transcript renders when a chat opens


def now() -> str:
    """The time stamp of a message shown before the server has stored it."""
    return datetime.now(UTC).isoformat()


@dataclass
class Message:
    """A row of the transcript: what the server stored, plus the view's streaming state."""

    role: str
    content: str
    timestamp: str = ""
    model: str = ""
    finish_reason: str | None = None
    streaming: bool = False
    html: str | None = None
    id: str = ""  # "" until the server has stored it
    parent_id: str | None = None
    sibling_ids: list[str] = field(default_factory=list)
    editing: bool = False  # its text is in the composer, to be sent again

    @classmethod
    def of(cls, message: ChatMessage) -> Message:
        return cls(
            message.role,
            message.content,
            message.timestamp,
            message.model,
            message.finish_reason,
            id=message.id,
            parent_id=message.parent_id,
            sibling_ids=list(message.sibling_ids),
        )

    @property
    def branch(self) -> tuple[int, int]:
        """(n, count): this is the n-th of `count` answers to its parent; count 1 when alone."""
        if self.id not in self.sibling_ids:
            return 1, 1
        return self.sibling_ids.index(self.id) + 1, len(self.sibling_ids)

    def sibling(self, step: int) -> str | None:
        """The id of the sibling `step` places away, if there is one."""
        n, count = self.branch
        target = n + step
        return self.sibling_ids[target - 1] if count > 1 and 1 <= target <= count else None

    def rendered(self) -> str:
        """The Markdown as HTML, rendered once and kept until the content changes."""
        if self.html is None:
            self.html = render_markdown(self.content)
        return self.html


class MessageModel(QAbstractListModel):
    """The messages of the open chat; the last one grows while a reply streams."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._messages: list[Message] = []

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._messages)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not self.checkIndex(index, QAbstractListModel.CheckIndexOption.IndexIsValid):
            return None
        message = self._messages[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return message.content
        if role == FINISH_ROLE:
            return message.finish_reason
        return None

    def message(self, row: int) -> Message:
        return self._messages[row]

    def set_messages(self, messages: list[Message]) -> None:
        self.beginResetModel()
        self._messages = list(messages)
        self.endResetModel()

    def append(self, message: Message) -> None:
        row = len(self._messages)
        self.beginInsertRows(QModelIndex(), row, row)
        self._messages.append(message)
        self.endInsertRows()

    def messages(self) -> list[Message]:
        """The rows as they are now: a turn that fails puts them back with `set_messages`."""
        return list(self._messages)

    def last_row(self, role: str) -> int:
        """The row of the last message of this role that the server has stored, or -1."""
        rows = range(len(self._messages) - 1, -1, -1)
        return next((r for r in rows if self._stored(r) and self._messages[r].role == role), -1)

    def row_of(self, message_id: str) -> int:
        """The row of the stored message with this id, or -1."""
        rows = (r for r, m in enumerate(self._messages) if message_id and m.id == message_id)
        return next(rows, -1)

    def _stored(self, row: int) -> bool:
        return bool(self._messages[row].id) and not self._messages[row].streaming

    def mark_editing(self, message: Message, editing: bool) -> None:
        """Show (or stop showing) that `message` is in the editor, if it is still a row."""
        rows = [r for r, m in enumerate(self._messages) if m is message]
        message.editing = editing
        for row in rows:
            self._changed(row)

    def cut_from(self, row: int) -> None:
        """Drop `row` and every row after it: a new branch is about to grow there."""
        self.remove_last(len(self._messages) - row)

    def adopt(self, stored: list[Message]) -> None:
        """Take the server's ids for the rows shown, which end the chat `stored` (the system
        prompt may be above them); if they read differently, show `stored` instead."""
        shown, tail = self._messages, stored[len(stored) - len(self._messages) :]
        if len(stored) < len(shown) or not all(map(_same, shown, tail)):
            self.set_messages(stored)
            return
        changed = [r for r, (a, b) in enumerate(zip(shown, tail, strict=True)) if _take(a, b)]
        if changed:
            self.dataChanged.emit(self.index(changed[0]), self.index(changed[-1]))

    def remove_last(self, count: int) -> None:
        count = min(count, len(self._messages))
        if count <= 0:
            return
        first = len(self._messages) - count
        self.beginRemoveRows(QModelIndex(), first, len(self._messages) - 1)
        del self._messages[first:]
        self.endRemoveRows()

    def append_text(self, text: str) -> None:
        """Grow the last message by streamed text."""
        if not self._messages or not text:
            return
        last = self._messages[-1]
        last.content += text
        last.html = None
        self._changed(len(self._messages) - 1)

    def finish_last(
        self, finish_reason: str | None, rendered: tuple[str, str] | None = None
    ) -> None:
        """End the streaming of the last message. `rendered` is (text, html) made off the GUI
        thread; it is used if the text is what the message holds."""
        if not self._messages:
            return
        last = self._messages[-1]
        last.finish_reason, last.streaming = finish_reason, False
        last.timestamp = last.timestamp or now()  # stored as it ended; shown before a reload
        if rendered is not None and rendered[0] == last.content:
            last.html = rendered[1]
        self._changed(len(self._messages) - 1)

    def _changed(self, row: int) -> None:
        self.dataChanged.emit(self.index(row), self.index(row))


def _same(mine: Message, stored: Message) -> bool:
    """The row shows this stored message. (A stopped reply may hold fewer words than the
    server kept: the last ones were on their way when the stream was cut.)"""
    stopped = mine.finish_reason == "cancelled" and stored.content.startswith(mine.content)
    return mine.role == stored.role and (mine.content == stored.content or stopped)


def _take(mine: Message, stored: Message) -> bool:
    """Copy the server's ids into a row shown; True if what the row shows changes."""
    before = _looks(mine)
    mine.id, mine.parent_id = stored.id, stored.parent_id
    mine.sibling_ids = list(stored.sibling_ids)
    mine.timestamp = stored.timestamp or mine.timestamp
    return _looks(mine) != before


def _looks(message: Message) -> tuple[tuple[int, int], bool] | None:
    """What of its ids a row shows: its switcher, and its actions once stored (Edit,
    Delete…); nothing while it streams."""
    return None if message.streaming else (message.branch, bool(message.id))


class TokenBuffer(QObject):
    """Collects streamed text and releases it every ~50 ms, so repaints stay few and smooth."""

    flushed = Signal(str)

    def __init__(self, interval_ms: int = 50, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._parts: list[str] = []
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.flush)

    def add(self, text: str) -> None:
        self._parts.append(text)
        if not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        self._timer.stop()
        if self._parts:
            text, self._parts = "".join(self._parts), []
            self.flushed.emit(text)

    def clear(self) -> None:
        self._timer.stop()
        self._parts = []
