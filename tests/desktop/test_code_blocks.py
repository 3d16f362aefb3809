"""Code in replies (SPEC 17): highlighted, a Copy link on every block with visible feedback,
and a stopped reply rendered as well as a finished one."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QTextCursor
from PySide6.QtWidgets import QTextBrowser

from desktop.main_window import MainWindow
from desktop.widgets.transcript import COPIED_LABEL, Transcript
from tests.desktop.helpers import WAIT_MS, wait_idle
from tests.fakes.base import text_tokens

REPLY = (
    "Two ways:\n\n```python\nfor line in open(path):\n    print(line)\n```\n\n"
    "or in the shell:\n\n```sh\ncat file.txt | wc -l\n```\n"
)


@pytest.fixture(autouse=True)
def short_feedback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Transcript, "COPIED_MS", 200)


def _ask(qtbot, window: MainWindow, fake_ollama, reply: str) -> None:  # noqa: ANN001
    fake_ollama.tokens = text_tokens(reply)
    qtbot.keyClicks(window.composer.edit, "How do I count lines?")
    qtbot.keyClick(window.composer.edit, Qt.Key.Key_Return)


def _link(view: QTextBrowser, label: str, href_prefix: str, nth: int = 0) -> QTextCursor:
    """The nth link whose text is `label` and whose target starts with `href_prefix`."""
    document, found = view.document(), []
    cursor = document.find(label, 0)
    while not cursor.isNull():
        if cursor.charFormat().anchorHref().startswith(href_prefix):
            found.append(QTextCursor(cursor))
        cursor = document.find(label, cursor)
    return found[nth]


def _click(qtbot, view: QTextBrowser, cursor: QTextCursor, shift: bool = False) -> None:  # noqa: ANN001
    middle = QTextCursor(cursor.document())
    middle.setPosition((cursor.selectionStart() + cursor.selectionEnd()) // 2)
    view.setTextCursor(middle)
    view.ensureCursorVisible()
    rect = view.cursorRect(middle)
    modifier = Qt.KeyboardModifier.ShiftModifier if shift else Qt.KeyboardModifier.NoModifier
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, modifier, rect.center())


def test_copy_on_a_code_block_copies_that_block_and_says_so(
    qtbot,
    window: MainWindow,
    fake_ollama,  # noqa: ANN001
) -> None:
    _ask(qtbot, window, fake_ollama, REPLY)
    qtbot.waitUntil(lambda: not window.session.busy, timeout=WAIT_MS)
    wait_idle(qtbot, window)
    view = window.transcript
    _click(qtbot, view, _link(view, "Copy", "code:", nth=1))
    assert QGuiApplication.clipboard().text() == "cat file.txt | wc -l\n"
    assert view.toPlainText().count(COPIED_LABEL) == 1
    assert _link(view, COPIED_LABEL, "code:").charFormat().anchorHref().endswith(":1")
    qtbot.waitUntil(lambda: COPIED_LABEL not in view.toPlainText(), timeout=WAIT_MS)
    _click(qtbot, view, _link(view, "Copy", "code:", nth=0))
    assert QGuiApplication.clipboard().text() == "for line in open(path):\n    print(line)\n"


def test_message_copy_gives_text_and_markdown_with_shift(
    qtbot,
    window: MainWindow,
    fake_ollama,  # noqa: ANN001
) -> None:
    _ask(qtbot, window, fake_ollama, "Use **bold** and `code`.")
    qtbot.waitUntil(lambda: not window.session.busy, timeout=WAIT_MS)
    wait_idle(qtbot, window)
    view = window.transcript
    _click(qtbot, view, _link(view, "Copy", "copy:", nth=1))
    assert QGuiApplication.clipboard().text() == "Use bold and code."
    qtbot.waitUntil(lambda: COPIED_LABEL not in view.toPlainText(), timeout=WAIT_MS)
    _click(qtbot, view, _link(view, "Copy", "copy:", nth=1), shift=True)
    assert QGuiApplication.clipboard().text() == "Use **bold** and `code`."


def test_code_is_highlighted_and_a_stopped_reply_renders_like_a_finished_one(
    qtbot,
    window: MainWindow,
    fake_ollama,  # noqa: ANN001
) -> None:
    fake_ollama.token_delay = 0.05
    _ask(qtbot, window, fake_ollama, "Here:\n\n```python\ndef count(path):\n" + "    x = 1\n" * 80)
    qtbot.waitUntil(lambda: "def count" in window.transcript.toPlainText(), timeout=WAIT_MS)
    qtbot.mouseClick(window.composer.button, Qt.MouseButton.LeftButton)  # Stop
    view = window.transcript
    assert "```" not in view.toPlainText()
    keyword = view.document().find("def")
    text_color = view.palette().color(view.palette().ColorRole.Text)
    assert keyword.charFormat().foreground().color() != text_color  # highlighted
    assert _link(view, "Copy", "code:").charFormat().anchorHref().startswith("code:")
    wait_idle(qtbot, window)
