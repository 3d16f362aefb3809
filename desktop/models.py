"""The app's state as Qt list models: chats, the messages of the open chat, and prompts."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPixmap

from desktop.markdown_render import render_markdown

Index = QModelIndex | QPersistentModelIndex
ID_ROLE = Qt.ItemDataRole.UserRole + 1
FINISH_ROLE = Qt.ItemDataRole.UserRole + 2
ACTIVE_ROLE = Qt.ItemDataRole.UserRole + 3


def short_time(stamp: str) -> str:
    """'14:05' for today, '3 Mar' otherwise; the raw text if it is not ISO 8601."""
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone()
    except ValueError:
        return stamp
    if moment.date() == datetime.now().astimezone().date():
        return moment.strftime("%H:%M")
    return f"{moment.day} {moment.strftime('%b %Y')}"


@dataclass(frozen=True)
class ChatSummary:
    id: str
    title: str
    updated_at: str = ""
    message_count: int = 0
    model: str = ""

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> ChatSummary:
        return cls(
            str(data["id"]),
            str(data.get("title") or ""),
            str(data.get("updated_at") or ""),
            int(data.get("message_count") or 0),
            str(data.get("model") or ""),
        )


@dataclass
class Message:
    role: str
    content: str
    timestamp: str = ""
    model: str = ""
    finish_reason: str | None = None
    streaming: bool = False
    html: str | None = None

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Message:
        return cls(
            str(data.get("role", "")),
            str(data.get("content", "")),
            str(data.get("timestamp") or ""),
            str(data.get("model") or ""),
            data.get("finish_reason"),
        )

    def rendered(self) -> str:
        """The Markdown as HTML, rendered once and kept until the content changes."""
        if self.html is None:
            self.html = render_markdown(self.content)
        return self.html


@dataclass(frozen=True)
class Prompt:
    id: str
    name: str
    content: str
    description: str = ""
    is_active: bool = False

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Prompt:
        return cls(
            str(data["id"]),
            str(data.get("name") or data["id"]),
            str(data.get("content") or ""),
            str(data.get("description") or ""),
            bool(data.get("is_active")),
        )


class ChatListModel(QAbstractListModel):
    """The chats in the sidebar, newest first."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._chats: list[ChatSummary] = []

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._chats)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not self.checkIndex(index, QAbstractListModel.CheckIndexOption.IndexIsValid):
            return None
        chat = self._chats[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return chat.title or "Untitled chat"
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{chat.title}\n{chat.message_count} messages · {short_time(chat.updated_at)}"
        if role == ID_ROLE:
            return chat.id
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return super().flags(index) | Qt.ItemFlag.ItemIsEditable

    def set_chats(self, chats: list[ChatSummary]) -> None:
        self.beginResetModel()
        self._chats = list(chats)
        self.endResetModel()

    def row_of(self, chat_id: str) -> int:
        return next((i for i, chat in enumerate(self._chats) if chat.id == chat_id), -1)

    def chat(self, row: int) -> ChatSummary:
        return self._chats[row]

    def add_first(self, chat: ChatSummary) -> None:
        """Show a chat that the server will only list once its first reply is stored."""
        self.remove(chat.id)
        self.beginInsertRows(QModelIndex(), 0, 0)
        self._chats.insert(0, chat)
        self.endInsertRows()

    def rename(self, chat_id: str, title: str) -> None:
        row = self.row_of(chat_id)
        if row >= 0:
            self._chats[row] = replace(self._chats[row], title=title)
            self.dataChanged.emit(self.index(row), self.index(row))

    def remove(self, chat_id: str) -> None:
        row = self.row_of(chat_id)
        if row >= 0:
            self.beginRemoveRows(QModelIndex(), row, row)
            del self._chats[row]
            self.endRemoveRows()


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
        if rendered is not None and rendered[0] == last.content:
            last.html = rendered[1]
        self._changed(len(self._messages) - 1)

    def _changed(self, row: int) -> None:
        self.dataChanged.emit(self.index(row), self.index(row))


def _dot_icon(color: QColor | None) -> QIcon:
    pixmap = QPixmap(12, 12)
    pixmap.fill(Qt.GlobalColor.transparent)
    if color is not None:
        painter = QPainter(pixmap)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setBrush(color)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.drawEllipse(2, 2, 8, 8)
        painter.end()
    return QIcon(pixmap)


class PromptModel(QAbstractListModel):
    """The user's prompt library; the active prompt is bold with a green dot."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._prompts: list[Prompt] = []
        self._icons: tuple[QIcon, QIcon] | None = None  # pixmaps need the GUI up: made lazily

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._prompts)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not self.checkIndex(index, QAbstractListModel.CheckIndexOption.IndexIsValid):
            return None
        prompt = self._prompts[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return prompt.name
        if role == Qt.ItemDataRole.ToolTipRole:
            suffix = " (active)" if prompt.is_active else ""
            return f"{prompt.description or prompt.name}{suffix}"
        if role == Qt.ItemDataRole.DecorationRole:
            if self._icons is None:
                self._icons = (_dot_icon(None), _dot_icon(QColor("#2e9d4f")))
            return self._icons[prompt.is_active]
        if role == Qt.ItemDataRole.FontRole and prompt.is_active:
            font = QFont()
            font.setBold(True)
            return font
        if role == ID_ROLE:
            return prompt.id
        if role == ACTIVE_ROLE:
            return prompt.is_active
        return None

    def set_prompts(self, prompts: list[Prompt]) -> None:
        self.beginResetModel()
        self._prompts = sorted(prompts, key=lambda p: p.name.casefold())
        self.endResetModel()

    def prompt(self, row: int) -> Prompt:
        return self._prompts[row]

    def row_of(self, prompt_id: str) -> int:
        return next((i for i, p in enumerate(self._prompts) if p.id == prompt_id), -1)

    def active_row(self) -> int:
        return next((i for i, p in enumerate(self._prompts) if p.is_active), -1)


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
