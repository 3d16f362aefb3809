"""The sidebar's chats and the prompt library as Qt list models, holding the API's dataclasses."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QColor, QFont, QIcon, QPainter, QPixmap

from desktop.api_types import ChatSummary, Prompt

Index = QModelIndex | QPersistentModelIndex
ID_ROLE = Qt.ItemDataRole.UserRole + 1
FINISH_ROLE = Qt.ItemDataRole.UserRole + 2
ACTIVE_ROLE = Qt.ItemDataRole.UserRole + 3
DETAILS_ROLE = Qt.ItemDataRole.UserRole + 4  # a chat's second line: when, and how long


def short_time(stamp: str) -> str:
    """'14:05' for today, '3 Mar' otherwise; the raw text if it is not ISO 8601."""
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone()
    except ValueError:
        return stamp
    if moment.date() == datetime.now().astimezone().date():
        return moment.strftime("%H:%M")
    return f"{moment.day} {moment.strftime('%b %Y')}"


def elide(text: str, limit: int) -> str:
    """`text` cut to `limit` characters with an ellipsis, for titles shown in one line."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def relative_day(stamp: str, today: date | None = None) -> str:
    """'14:05' today, 'Yesterday', a weekday within the week, '3 Mar 2026' before that."""
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone()
    except ValueError:
        return stamp
    days = ((today or datetime.now().astimezone().date()) - moment.date()).days
    if days <= 0:
        return moment.strftime("%H:%M")
    if days == 1:
        return "Yesterday"
    if days < 7:
        return moment.strftime("%A")
    return f"{moment.day} {moment.strftime('%b %Y')}"


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
        if role == DETAILS_ROLE:
            count = chat.message_count
            return f"{relative_day(chat.updated_at)} · {count} message{'s' if count != 1 else ''}"
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

    def title_of(self, chat_id: str | None) -> str:
        """The chat's title, "" when it is not listed."""
        row = self.row_of(chat_id) if chat_id else -1
        return self._chats[row].title if row >= 0 else ""

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
