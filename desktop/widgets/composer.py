"""The message input: Enter sends, Shift+Enter adds a line, Send becomes Stop while streaming;
it also edits a message of the chat (Save & send, or Esc to cancel)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QSize, Qt, Signal
from PySide6.QtGui import QKeyEvent, QPalette, QTextCursor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

EDITING = "Editing your message: Save & send starts a new branch; Esc cancels"


class MessageEdit(QPlainTextEdit):
    """A plain-text editor that turns a bare Enter into `submitted`, and grows with its text
    from MIN_LINES to MAX_LINES (then it scrolls)."""

    submitted = Signal()
    up_on_empty = Signal()  # Up with nothing typed: edit the last message, as in Slack
    escaped = Signal()

    MIN_LINES = 2
    MAX_LINES = 10

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self._lines = self.MIN_LINES
        self.document().documentLayout().documentSizeChanged.connect(self._fit_lines)

    def _fit_lines(self) -> None:
        # QPlainTextEdit's document height counts lines, wrapped ones included.
        lines = max(self.MIN_LINES, min(self.MAX_LINES, round(self.document().size().height())))
        if lines != self._lines:
            self._lines = lines
            self.updateGeometry()

    def _height(self, lines: int) -> int:
        margin = self.document().documentMargin() + self.frameWidth()
        return round(self.fontMetrics().lineSpacing() * lines + 2 * margin + 4)

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's API)
        return QSize(super().sizeHint().width(), self._height(self._lines))

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt's API)
        # A scroll area's own minimum is taller than two lines.
        return QSize(super().minimumSizeHint().width(), self._height(self.MIN_LINES))

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt's API)
        super().changeEvent(event)
        if event.type() == QEvent.Type.FontChange:
            self.updateGeometry()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt's API)
        key, plain = event.key(), event.modifiers() == Qt.KeyboardModifier.NoModifier
        is_enter = key in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        if is_enter and not event.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self.submitted.emit()
        elif key == Qt.Key.Key_Up and plain and not self.toPlainText():
            self.up_on_empty.emit()
        elif key == Qt.Key.Key_Escape:
            self.escaped.emit()
        else:
            super().keyPressEvent(event)


class Composer(QWidget):
    """Emits `send_requested(text)` and `stop_requested()`, and in edit mode `edit_submitted`
    and `edit_cancelled`; it never talks to the server."""

    send_requested = Signal(str)
    stop_requested = Signal()
    edit_submitted = Signal(str)
    edit_cancelled = Signal()
    edit_last_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._busy = False
        self._put_aside: str | None = None  # the draft, while the editor holds a message
        self._chat_id = ""  # whose draft the editor holds; "" is a new chat
        self._drafts: dict[str, str] = {}  # the other chats' unsent text
        self._setup_ui()
        self._connect_signals()
        self._paint_button()

    def _setup_ui(self) -> None:
        self.edit = MessageEdit()
        self.edit.setObjectName("composerEdit")
        self.edit.setPlaceholderText("Message (Enter to send, Shift+Enter for a new line)")
        self.edit.setTabChangesFocus(True)
        self.button = QPushButton("Send")
        self.button.setObjectName("sendButton")
        self.button.setMinimumWidth(84)
        self.button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Expanding)
        self.button.setAutoDefault(False)
        self.edit_label = QLabel(EDITING)
        self.edit_label.setObjectName("editLabel")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setObjectName("cancelEditButton")
        self.cancel_button.setAutoDefault(False)
        self.edit_bar = QWidget()
        bar = QHBoxLayout(self.edit_bar)
        bar.setContentsMargins(0, 0, 0, 4)
        bar.addWidget(self.edit_label, 1)
        bar.addWidget(self.cancel_button)
        self.edit_bar.hide()
        row = QHBoxLayout()
        row.addWidget(self.edit, 1)
        row.addWidget(self.button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 6, 12, 12)
        layout.setSpacing(0)
        layout.addWidget(self.edit_bar)
        layout.addLayout(row)

    def _connect_signals(self) -> None:
        self.edit.submitted.connect(self._on_send)
        self.edit.up_on_empty.connect(self._on_up)
        self.edit.escaped.connect(self._on_escape)
        self.button.clicked.connect(self._on_button)
        self.cancel_button.clicked.connect(self._on_escape)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt's API)
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._paint_button()

    def _paint_button(self) -> None:
        """Send in the accent colour of the current theme, as the one main action. (A style
        sheet on this one button only, set again when the theme changes.)"""
        accent = self.palette().color(QPalette.ColorRole.Highlight)
        text = self.palette().color(QPalette.ColorRole.HighlightedText).name()
        self.button.setStyleSheet(
            f"QPushButton {{ background: {accent.name()}; color: {text}; border: none;"
            f" border-radius: 8px; padding: 6px 16px; font-weight: 600; }}"
            f" QPushButton:hover {{ background: {accent.lighter(112).name()}; }}"
            f" QPushButton:pressed {{ background: {accent.darker(115).name()}; }}"
        )

    def set_busy(self, busy: bool) -> None:
        """While a reply streams, the button stops it, and Enter sends nothing."""
        self._busy = busy
        self._label_button()

    def _label_button(self) -> None:
        editing = self.editing
        text = "Stop" if self._busy else "Save && send" if editing else "Send"
        self.button.setText(text)
        tip = "Send the edited message, on a new branch (Enter)" if editing else "Send (Enter)"
        self.button.setToolTip("Stop the reply (Esc)" if self._busy else tip)

    # Editing a message of the chat, in place of the draft
    @property
    def editing(self) -> bool:
        return self._put_aside is not None

    def begin_edit(self, text: str) -> None:
        """Hold `text` for editing; the draft is put aside until the edit is sent or dropped."""
        if not self.editing:
            self._put_aside = self.text()
        self.edit.setPlainText(text)
        self.edit.moveCursor(QTextCursor.MoveOperation.End)
        self.edit_bar.show()
        self._label_button()
        self.focus()

    def end_edit(self) -> None:
        """Back to the draft that was put aside."""
        if self._put_aside is None:
            return
        draft, self._put_aside = self._put_aside, None
        self.edit.setPlainText(draft)
        self.edit.moveCursor(QTextCursor.MoveOperation.End)
        self.edit_bar.hide()
        self._label_button()

    def _on_up(self) -> None:
        if not self.editing and not self._busy:
            self.edit_last_requested.emit()

    def _on_escape(self) -> None:
        if self.editing:
            self.end_edit()
            self.edit_cancelled.emit()

    def text(self) -> str:
        return self.edit.toPlainText()

    # Each chat keeps its own draft
    def switch_draft(self, chat_id: str) -> None:
        """Put the draft away and show `chat_id`'s one."""
        if chat_id == self._chat_id:
            return
        self.end_edit()  # an edit belongs to the chat it was begun in
        self._drafts[self._chat_id] = self.text()
        self._chat_id = chat_id
        self.edit.setPlainText(self._drafts.pop(chat_id, ""))
        self.edit.moveCursor(QTextCursor.MoveOperation.End)

    def restore_draft(self, chat_id: str, text: str) -> None:
        """A message that could not be sent goes back to its chat's draft, before any new text."""
        current = self.text() if chat_id == self._chat_id else self._drafts.get(chat_id, "")
        draft = text if not current.strip() or current == text else f"{text}\n{current}"
        if chat_id == self._chat_id:
            self.edit.setPlainText(draft)
            self.edit.moveCursor(QTextCursor.MoveOperation.End)
        else:
            self._drafts[chat_id] = draft

    def drop_draft(self, chat_id: str, text: str) -> None:
        """`text` is being sent (e.g. on Retry): it is no longer a draft."""
        if chat_id == self._chat_id and self.text() == text:
            self.edit.clear()
        elif self._drafts.get(chat_id) == text:
            del self._drafts[chat_id]

    def focus(self) -> None:
        self.edit.setFocus(Qt.FocusReason.OtherFocusReason)

    def _on_button(self) -> None:
        if self._busy:
            self.stop_requested.emit()
        else:
            self._on_send()

    def _on_send(self) -> None:
        text = self.edit.toPlainText().strip()
        if self._busy or not text:
            return
        if self.editing:
            self.end_edit()
            self.edit_submitted.emit(text)
            return
        self.edit.clear()
        self.send_requested.emit(text)
