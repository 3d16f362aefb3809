"""The conversation: a MessageModel as one rich-text document, updated live while streaming."""

from __future__ import annotations

import html

from PySide6.QtCore import QEvent, QModelIndex, QPersistentModelIndex, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication, QPalette, QTextCursor
from PySide6.QtWidgets import QTextBrowser, QWidget

from desktop.markdown_render import close_open_fence, render_markdown, stable_prefix_length
from desktop.message_model import SHOWN_AT_FIRST, MessageModel
from desktop.models import short_time
from desktop.theme import is_dark

Index = QModelIndex | QPersistentModelIndex

_WHO = {"user": "You", "assistant": "Assistant", "system": "System prompt"}
_FINISH_NOTES = {"cancelled": "stopped", "length": "cut off at the length limit"}


def _mix(palette: QPalette, role: QPalette.ColorRole, other: QPalette.ColorRole, t: float) -> str:
    a, b = palette.color(role), palette.color(other)
    channels = (a.red(), a.green(), a.blue()), (b.red(), b.green(), b.blue())
    r, g, bl = (round(x + (y - x) * t) for x, y in zip(*channels, strict=True))
    return f"#{r:02x}{g:02x}{bl:02x}"


def style_sheet(palette: QPalette) -> str:
    """CSS for the document, from the current palette; it applies when HTML is parsed."""
    role = QPalette.ColorRole
    dark = is_dark(palette)
    code_bg = _mix(palette, role.Base, role.Text, 0.10 if dark else 0.05)
    user_bg = _mix(palette, role.Base, role.Highlight, 0.22 if dark else 0.10)
    return f"""
        table.msg {{ margin-top: 4px; margin-bottom: 10px; }}
        table.user {{ background-color: {user_bg}; }}
        table.assistant {{ background-color: {palette.color(role.Base).name()}; }}
        table.system {{ background-color: {palette.color(role.AlternateBase).name()}; }}
        table.code {{ background-color: {code_bg}; margin-top: 4px; margin-bottom: 4px; }}
        pre, code {{ font-family: "DejaVu Sans Mono", "Menlo", "Consolas", monospace; }}
        table.grid {{ border-collapse: collapse; border-color: {palette.color(role.Mid).name()}; }}
        p, li {{ line-height: 125%; }}
        p.head {{ margin-bottom: 4px; }}
        .who {{ font-weight: 600; }}
        .meta {{ color: {palette.color(role.PlaceholderText).name()}; }}
        .stopped {{ color: #c0392b; }}
        a {{ color: {palette.color(role.Link).name()}; text-decoration: none; }}
        p.more {{ text-align: center; }}
    """


class Transcript(QTextBrowser):
    """Shows the last messages, more on request; the streaming reply re-renders only its tail."""

    copied = Signal(int)

    WINDOW = SHOWN_AT_FIRST  # older ones come with "Show earlier"

    def __init__(self, model: MessageModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model = model
        self._first_shown = 0
        self._stable_len = 0
        self._stable_html = ""
        self._setup_ui()
        self._connect_signals()

    def _setup_ui(self) -> None:
        self.setOpenLinks(False)
        self.setReadOnly(True)
        self.setFrameShape(QTextBrowser.Shape.NoFrame)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.document().setDocumentMargin(14)
        self.setPlaceholderText("Send a message to start the conversation.")

    def _connect_signals(self) -> None:
        self.anchorClicked.connect(self._on_anchor)
        self._model.modelReset.connect(self._on_reset)
        self._model.rowsInserted.connect(self._on_rows_inserted)
        self._model.rowsRemoved.connect(self.render_all)
        self._model.dataChanged.connect(self._on_data_changed)

    @property
    def first_shown(self) -> int:
        return self._first_shown

    def _on_reset(self) -> None:
        self._first_shown = max(0, self._model.rowCount() - self.WINDOW)
        self.render_all()

    def render_all(self) -> None:
        """Rebuild the document from the first message shown, and scroll to the end."""
        self._render_from(min(self._first_shown, self._model.rowCount()))
        self._scroll_to_end()

    def show_earlier(self) -> None:
        self._render_from(max(0, self._first_shown - self.WINDOW * 2))

    def _render_from(self, first: int) -> None:
        self._first_shown = first
        parts = []
        if first > 0:
            parts.append(f'<p class="more"><a href="more:">Show {first} earlier messages</a></p>')
        parts.extend(self._message_html(row) for row in range(first, self._model.rowCount()))
        self.document().setDefaultStyleSheet(style_sheet(self.palette()))
        self.setHtml("".join(parts))
        self._reset_stream_cache()

    def _message_html(self, row: int, body: str | None = None) -> str:
        message = self._model.message(row)
        meta = [short_time(message.timestamp)] if message.timestamp else []
        if message.role == "assistant" and message.model:
            meta.append(html.escape(message.model))
        if message.streaming:
            meta.append("replying…")
        note = _FINISH_NOTES.get(message.finish_reason or "")
        stopped = f' <span class="stopped">· {note}</span>' if note else ""
        meta_html = f'<span class="meta"> · {" · ".join(meta)}</span>' if meta else ""
        who = _WHO.get(message.role, html.escape(message.role))
        return (
            f'<table class="msg {html.escape(message.role)}" width="100%" cellpadding="10">'
            f'<tr><td><p class="head"><span class="who">{who}</span>{meta_html}{stopped}'
            f'&nbsp;&nbsp;&nbsp;<a href="copy:{row}">Copy</a></p>'
            f"{message.rendered() if body is None else body}</td></tr></table>"
        )

    def _on_rows_inserted(self, parent: Index, first: int, last: int) -> None:
        if last != self._model.rowCount() - 1:
            self.render_all()  # only appends are incremental
            return
        at_end = self._at_end()
        cursor = QTextCursor(self.document())
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertHtml("".join(self._message_html(row) for row in range(first, last + 1)))
        self._reset_stream_cache()
        if at_end:
            self._scroll_to_end()

    def _on_data_changed(self, top_left: Index, bottom_right: Index, roles: object = ()) -> None:
        last = self._model.rowCount() - 1
        if top_left.row() != last or bottom_right.row() != last:
            self.render_all()
            return
        self._replace_last(self._last_body())

    def _last_body(self) -> str:
        """The last message's HTML; while it streams, only the unfinished tail is re-rendered."""
        message = self._model.message(self._model.rowCount() - 1)
        if not message.streaming:
            self._reset_stream_cache()
            return message.rendered()
        stable = stable_prefix_length(message.content)
        if stable > self._stable_len:
            self._stable_html += render_markdown(message.content[self._stable_len : stable])
            self._stable_len = stable
        tail = message.content[self._stable_len :]
        return self._stable_html + (render_markdown(close_open_fence(tail)) if tail else "")

    def _replace_last(self, body: str) -> None:
        frames = self.document().rootFrame().childFrames()
        if not frames:
            self.render_all()
            return
        at_end = self._at_end()
        cursor = QTextCursor(self.document())
        cursor.setPosition(frames[-1].firstPosition() - 1)
        cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
        cursor.beginEditBlock()
        cursor.removeSelectedText()
        cursor.insertHtml(self._message_html(self._model.rowCount() - 1, body))
        cursor.endEditBlock()
        if at_end:
            self._scroll_to_end()

    def _reset_stream_cache(self) -> None:
        self._stable_len, self._stable_html = 0, ""

    def _at_end(self) -> bool:
        bar = self.verticalScrollBar()
        return bar.value() >= bar.maximum() - 8

    def _scroll_to_end(self) -> None:
        bar = self.verticalScrollBar()
        bar.setValue(bar.maximum())

    def _on_anchor(self, url: QUrl) -> None:
        if url.scheme() == "copy":
            row = int(url.path())
            QGuiApplication.clipboard().setText(self._model.message(row).content)
            self.copied.emit(row)
        elif url.scheme() == "more":
            self.show_earlier()
        elif url.scheme() in ("http", "https", "mailto"):
            QDesktopServices.openUrl(url)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt's API)
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._render_from(self._first_shown)
