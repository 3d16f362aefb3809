"""The conversation: a MessageModel as one rich-text document, updated live while streaming."""

from __future__ import annotations

import html

from PySide6.QtCore import (
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    QRectF,
    Qt,
    QTimer,
    QUrl,
    Signal,
    SignalInstance,
)
from PySide6.QtGui import (
    QColor,
    QDesktopServices,
    QFont,
    QFontMetrics,
    QGuiApplication,
    QImage,
    QPainter,
    QPaintEvent,
    QPalette,
    QResizeEvent,
    QTextCursor,
    QTextDocument,
    QTextDocumentFragment,
)
from PySide6.QtWidgets import QTextBrowser, QWidget

from desktop.markdown_render import (
    COPY_LABEL,
    code_blocks,
    highlight_style_sheet,
    render_markdown,
    stable_prefix_length,
)
from desktop.message_model import SHOWN_AT_FIRST, MessageModel
from desktop.models import short_time
from desktop.theme import is_dark
from desktop.widgets.message_links import actions, switcher

Index = QModelIndex | QPersistentModelIndex

_WHO = {"user": "You", "assistant": "Assistant", "system": "System prompt"}
_AVATARS = {"user": ("#4f6bed", "Y"), "assistant": ("#10a37f", "A"), "system": ("#8a8a93", "S")}
_FINISH_NOTES = {"cancelled": "stopped", "length": "cut off at the length limit"}
COPIED_LABEL = "Copied ✓"
WELCOME = "What can I help with?"
HINT = "Ask a question, paste some code, or pick a prompt above."
AVATAR_SIZE = 28


def _mix(palette: QPalette, role: QPalette.ColorRole, other: QPalette.ColorRole, t: float) -> str:
    a, b = palette.color(role), palette.color(other)
    channels = (a.red(), a.green(), a.blue()), (b.red(), b.green(), b.blue())
    r, g, bl = (round(x + (y - x) * t) for x, y in zip(*channels, strict=True))
    return f"#{r:02x}{g:02x}{bl:02x}"


def style_sheet(palette: QPalette) -> str:
    """CSS for the document, from the current palette; it applies when HTML is parsed."""
    role = QPalette.ColorRole
    dark = is_dark(palette)
    tokens, code_bg = highlight_style_sheet(dark)
    user_bg = _mix(palette, role.Base, role.Highlight, 0.20 if dark else 0.09)
    head_bg = _mix(palette, role.Base, role.Text, 0.12 if dark else 0.06)
    border = _mix(palette, role.Base, role.Text, 0.22 if dark else 0.14)
    muted = palette.color(role.PlaceholderText).name()
    return f"""
        table.msg {{ margin-top: 4px; margin-bottom: 12px; }}
        td.user {{ background-color: {user_bg}; }}
        td.system {{ background-color: {palette.color(role.AlternateBase).name()}; }}
        table.code {{ background-color: {code_bg}; border-color: {border};
                      margin-top: 6px; margin-bottom: 6px; }}
        td.codehead {{ background-color: {head_bg}; color: {muted}; font-size: small; }}
        pre, code {{ font-family: "DejaVu Sans Mono", "Menlo", "Consolas", monospace; }}
        pre {{ color: {"#e6edf3" if dark else "#1f2328"}; }}
        table.grid {{ border-collapse: collapse; border-color: {border}; }}
        p, li {{ line-height: 130%; }}
        p.head {{ margin-bottom: 6px; }}
        .who {{ font-weight: 600; }}
        .meta {{ color: {muted}; }}
        .stopped {{ color: {"#ff8a80" if dark else "#c0392b"}; }}
        a {{ color: {palette.color(role.Link).name()}; text-decoration: none; }}
        a.act {{ color: {muted}; }}
        .editing {{ color: {palette.color(role.Link).name()}; font-weight: 600; }}
        a.arrow {{ font-weight: 700; }}
        p.more {{ text-align: center; }}
        {tokens}
    """


def avatar(role: str) -> QImage:
    """A round badge with the role's initial, drawn at twice the size for sharp HiDPI."""
    color, letter = _AVATARS.get(role, _AVATARS["system"])
    image = QImage(AVATAR_SIZE * 2, AVATAR_SIZE * 2, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(color))
    painter.drawEllipse(image.rect())
    font = QFont()
    font.setPixelSize(AVATAR_SIZE)
    font.setBold(True)
    painter.setFont(font)
    painter.setPen(QColor("#ffffff"))
    painter.drawText(QRectF(image.rect()), Qt.AlignmentFlag.AlignCenter, letter)
    painter.end()
    return image


class Transcript(QTextBrowser):
    """Shows the last messages, more on request; the streaming reply re-renders only its tail."""

    copied = Signal(str)  # what was put on the clipboard
    edit_requested = Signal(int)  # row
    regenerate_requested = Signal(int)  # row
    delete_requested = Signal(int)  # row
    switch_requested = Signal(str)  # the id of the sibling to show

    WINDOW = SHOWN_AT_FIRST  # older ones come with "Show earlier"
    MAX_TEXT_WIDTH = 900  # a readable column in a wide window, as chat apps have
    MARGIN = 14
    COPIED_MS = 1500  # how long a Copy link says "Copied"

    def __init__(self, model: MessageModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model = model
        self._first_shown = 0
        self._stable_len = 0
        self._stable_html = ""
        self._copied_href = ""
        self._setup_ui()
        self._connect_signals()

    def _setup_ui(self) -> None:
        self.setOpenLinks(False)
        self.setReadOnly(True)
        self.setFrameShape(QTextBrowser.Shape.NoFrame)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self._copied_timer = QTimer(self)
        self._copied_timer.setSingleShot(True)
        self._copied_timer.setInterval(self.COPIED_MS)

    def _connect_signals(self) -> None:
        self.anchorClicked.connect(self._on_anchor)
        self._copied_timer.timeout.connect(self._end_copied)
        self._model.modelReset.connect(self._on_reset)
        self._model.rowsInserted.connect(self._on_rows_inserted)
        self._model.rowsRemoved.connect(self.render_all)
        self._model.dataChanged.connect(self._on_data_changed)

    @property
    def first_shown(self) -> int:
        return self._first_shown

    def loadResource(self, kind: int, url: QUrl | str) -> object:  # noqa: N802 (Qt's API)
        url = QUrl(url)
        if url.scheme() == "avatar":
            return avatar(url.path())
        return super().loadResource(kind, url)

    def _on_reset(self) -> None:
        self._first_shown = max(0, self._model.rowCount() - self.WINDOW)
        self.render_all()

    def render_all(self) -> None:
        """Rebuild the document from the first message shown, and scroll to the end."""
        self._render_from(min(self._first_shown, self._model.rowCount()))
        self._scroll_to_end()

    def reveal(self, row: int) -> None:
        """Scroll `row` to the top of the view, rendering earlier messages if it is above
        them: after a switch, the message switched stays where the user was looking."""
        if row < self._first_shown:
            self._render_from(row)
        frames = self.document().rootFrame().childFrames()
        if 0 <= row - self._first_shown < len(frames):
            cursor = QTextCursor(self.document())
            cursor.setPosition(frames[row - self._first_shown].firstPosition())
            bar = self.verticalScrollBar()
            bar.setValue(bar.value() + self.cursorRect(cursor).top() - self.MARGIN)

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
        self._fit_width()
        self._reset_stream_cache()

    def _message_html(self, row: int, body: str | None = None) -> str:
        message = self._model.message(row)
        role = html.escape(message.role)
        meta = [short_time(message.timestamp)] if message.timestamp else []
        if message.role == "assistant" and message.model:
            meta.append(html.escape(message.model))
        if message.streaming:
            meta.append("replying…")
        note = _FINISH_NOTES.get(message.finish_reason or "")
        stopped = f' <span class="stopped">· {note}</span>' if note else ""
        if message.editing:
            stopped += ' <span class="editing">· ✎ editing, in the box below</span>'

        meta_html = f'<span class="meta"> · {" · ".join(meta)}</span>' if meta else ""
        who = _WHO.get(message.role, role)
        tools = "" if message.streaming else switcher(row, message) + actions(row, message)
        body = message.rendered() if body is None else body
        body = body.replace('href="code:', f'href="code:{row}:')  # a block's Copy names its row
        return (
            f'<table class="msg" width="100%" cellspacing="0" cellpadding="10"><tr>'
            f'<td width="{AVATAR_SIZE + 12}" valign="top">'
            f'<img src="avatar:{role}" width="{AVATAR_SIZE}" height="{AVATAR_SIZE}"></td>'
            f'<td class="{role}" valign="top">'
            f'<p class="head"><span class="who">{who}</span>{meta_html}{stopped}{tools}</p>'
            f"{body}</td></tr></table>"
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
        if top_left.row() == bottom_right.row() == last:
            self._replace_last(self._last_body())
        elif not self._replace_rows(top_left.row(), bottom_right.row()):
            self.render_all()

    def _replace_rows(self, first: int, last: int) -> bool:
        """Render those rows again in place (e.g. their ids and switchers came); False if the
        document does not hold one table a row shown, as it should."""
        frames = self.document().rootFrame().childFrames()
        if len(frames) != self._model.rowCount() - self._first_shown:
            return False
        at_end = self._at_end()
        for row in range(max(first, self._first_shown), last + 1):
            frame = self.document().rootFrame().childFrames()[row - self._first_shown]
            cursor = QTextCursor(self.document())
            cursor.setPosition(frame.firstPosition() - 1)
            cursor.setPosition(frame.lastPosition() + 1, QTextCursor.MoveMode.KeepAnchor)
            cursor.beginEditBlock()
            cursor.removeSelectedText()
            cursor.insertHtml(self._message_html(row))
            cursor.endEditBlock()
        if at_end:
            self._scroll_to_end()
        return True

    def _last_body(self) -> str:
        """The last message's HTML; while it streams, only the unfinished tail is re-rendered,
        without highlighting (the finished reply is highlighted once, off the GUI thread)."""
        message = self._model.message(self._model.rowCount() - 1)
        if not message.streaming:
            self._reset_stream_cache()
            return message.rendered()
        stable = stable_prefix_length(message.content)
        if stable > self._stable_len:
            fresh = message.content[self._stable_len : stable]
            self._stable_html += render_markdown(fresh, final=False)
            self._stable_len = stable
        tail = message.content[self._stable_len :]
        return self._stable_html + (render_markdown(tail, final=False) if tail else "")

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

    def _fit_width(self) -> None:
        """Keep the text in a centred column no wider than MAX_TEXT_WIDTH."""
        side = self.MARGIN + max(0, (self.viewport().width() - self.MAX_TEXT_WIDTH) // 2)
        frame = self.document().rootFrame()
        fmt = frame.frameFormat()
        if fmt.leftMargin() != side or fmt.topMargin() != self.MARGIN:
            fmt.setMargin(self.MARGIN)
            fmt.setLeftMargin(side)
            fmt.setRightMargin(side)
            frame.setFrameFormat(fmt)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt's API)
        super().paintEvent(event)
        if self._model.rowCount() == 0:
            self._paint_welcome()

    def _paint_welcome(self) -> None:
        """An empty chat: a greeting in the middle, as chat apps have, instead of a blank."""
        painter = QPainter(self.viewport())
        area = self.viewport().rect()
        title_font = QFont(self.font())
        title_font.setPointSizeF(self.font().pointSizeF() * 1.6)
        title_font.setWeight(QFont.Weight.DemiBold)
        line = QFontMetrics(title_font).height()
        painter.setFont(title_font)
        painter.setPen(self.palette().color(QPalette.ColorRole.Text))
        top = area.adjusted(0, 0, 0, -area.height() // 2 - line // 2)
        painter.drawText(top, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignBottom, WELCOME)
        painter.setFont(self.font())
        painter.setPen(self.palette().color(QPalette.ColorRole.PlaceholderText))
        bottom = area.adjusted(0, area.height() // 2 - line // 2 + 8, 0, 0)
        painter.drawText(bottom, Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop, HINT)
        painter.end()

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's API)
        super().resizeEvent(event)
        self._fit_width()

    # Links: Copy (a message, or one code block), earlier messages, and the web
    def _on_anchor(self, url: QUrl) -> None:
        scheme = url.scheme()
        if scheme in ("copy", "code"):
            self._copy(url.toString())
        elif scheme in self._row_intents:
            self._row_intents[scheme].emit(int(url.path()))
        elif scheme == "branch":
            self._switch(url.path())
        elif scheme == "more":
            self.show_earlier()
        elif scheme in ("http", "https", "mailto"):
            QDesktopServices.openUrl(url)

    @property
    def _row_intents(self) -> dict[str, SignalInstance]:
        return {
            "edit": self.edit_requested,
            "regen": self.regenerate_requested,
            "delete": self.delete_requested,
        }

    def _switch(self, where: str) -> None:
        """`<row>:<step>`: show the sibling `step` places away from that row's message."""
        row, _, step = where.partition(":")
        target = self._model.message(int(row)).sibling(int(step))
        if target is not None:
            self.switch_requested.emit(target)

    def _copy(self, href: str) -> None:
        """`copy:<row>` copies a message as text (as Markdown with Shift);
        `code:<row>:<n>` copies the message's n-th code block."""
        scheme, _, where = href.partition(":")
        row, _, block = where.partition(":")
        message = self._model.message(int(row))
        if scheme == "code":
            text = code_blocks(message.content)[int(block)]
        elif QGuiApplication.keyboardModifiers() & Qt.KeyboardModifier.ShiftModifier:
            text = message.content
        else:
            html_text = render_markdown(message.content, final=False)
            text = QTextDocumentFragment.fromHtml(html_text).toPlainText().strip()
        QGuiApplication.clipboard().setText(text)
        self._end_copied()
        self._relabel(href, COPY_LABEL, COPIED_LABEL)
        self._copied_href = href
        self._copied_timer.start()
        self.copied.emit(scheme)

    def _end_copied(self) -> None:
        self._copied_timer.stop()
        if self._copied_href:
            self._relabel(self._copied_href, COPIED_LABEL, COPY_LABEL)
            self._copied_href = ""

    def _relabel(self, href: str, old: str, new: str) -> None:
        """Change a link's text in place: no re-render, so it is cheap at any length."""
        document = self.document()
        cursor = document.find(old, 0, QTextDocument.FindFlag.FindCaseSensitively)
        while not cursor.isNull():
            if cursor.charFormat().anchorHref() == href:
                cursor.insertText(new, cursor.charFormat())
                return
            cursor = document.find(old, cursor, QTextDocument.FindFlag.FindCaseSensitively)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt's API)
        super().changeEvent(event)
        if event.type() == QEvent.Type.PaletteChange:
            self._render_from(self._first_shown)
