"""The messages of the open chat as a Qt list model, and the buffer that batches streamed text."""

from __future__ import annotations

from dataclasses import dataclass
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

    @classmethod
    def of(cls, message: ChatMessage) -> Message:
        return cls(
            message.role,
            message.content,
            message.timestamp,
            message.model,
            message.finish_reason,
        )

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
