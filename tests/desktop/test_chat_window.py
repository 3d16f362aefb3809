"""Chatting in the main window: streaming, Stop, and the chat list, against a real server."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QFileDialog, QLineEdit, QMessageBox, QWidget

from desktop.api_client import ApiClient, ApiClientError
from desktop.main_window import MainWindow
from desktop.models import FINISH_ROLE
from desktop.settings import Settings
from tests.desktop.helpers import WAIT_MS, answering, click, focus, wait_idle

Button = QMessageBox.StandardButton


@pytest.fixture
def api(live_server, admin_key: str) -> ApiClient:  # noqa: ANN001
    return ApiClient(live_server.url, admin_key)


def _send(qtbot, window: MainWindow, text: str) -> None:  # noqa: ANN001
    qtbot.keyClicks(window.composer.edit, text)
    qtbot.keyClick(window.composer.edit, Qt.Key.Key_Return)


def _last(window: MainWindow) -> str:
    messages = window.session.messages
    return messages.message(messages.rowCount() - 1).content


def _titles(window: MainWindow) -> list[str]:
    chats = window.session.chats
    return [chats.chat(row).title for row in range(chats.rowCount())]


def _click_chat(qtbot, window: MainWindow, title: str) -> None:  # noqa: ANN001
    view = window.sidebar.list
    rect = view.visualRect(view.model().index(_titles(window).index(title), 0))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_a_reply_streams_in_live_and_the_status_bar_shows_its_tokens(
    qtbot,
    window: MainWindow,
    fake_ollama,
    qtmodeltester,  # noqa: ANN001
) -> None:
    fake_ollama.tokens = ["Hello", " from", " the", " model", "."]
    fake_ollama.token_delay = 0.1
    seen: list[str] = []
    window.session.messages.dataChanged.connect(lambda *args: seen.append(_last(window)))
    _send(qtbot, window, "Hi there")
    assert window.composer.button.text() == "Stop"
    assert window.composer.text() == ""
    qtbot.waitUntil(lambda: not window.session.busy, timeout=WAIT_MS)
    partials = [text for text in dict.fromkeys(seen) if text and text != "Hello from the model."]
    assert len(partials) >= 2 and all("Hello from the model.".startswith(p) for p in partials)
    assert _last(window) == "Hello from the model."
    assert "Hello from the model." in window.transcript.toPlainText()
    assert window.composer.button.text() == "Send"
    assert "5 out" in window.status.tokens_label.text()
    assert "Requests left" in window.status.rate_label.text()
    wait_idle(qtbot, window)
    assert _titles(window)[0]  # the new chat is listed, newest first
    qtmodeltester.check(window.session.messages)
    qtmodeltester.check(window.session.chats)


def test_shift_enter_adds_a_line_instead_of_sending(qtbot, window: MainWindow) -> None:  # noqa: ANN001
    qtbot.keyClicks(window.composer.edit, "line one")
    qtbot.keyClick(window.composer.edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClicks(window.composer.edit, "line two")
    assert window.composer.text() == "line one\nline two"
    assert window.session.messages.rowCount() == 0


def test_stop_keeps_the_partial_reply_marked_as_stopped(
    qtbot,
    window: MainWindow,
    fake_ollama,
    api: ApiClient,  # noqa: ANN001
) -> None:
    fake_ollama.tokens = [f"t{i} " for i in range(200)]
    fake_ollama.token_delay = 0.05
    _send(qtbot, window, "Count slowly")
    qtbot.waitUntil(lambda: len(_last(window).split()) >= 3, timeout=WAIT_MS)
    qtbot.mouseClick(window.composer.button, Qt.MouseButton.LeftButton)
    assert window.composer.button.text() == "Send" and not window.session.busy
    messages = window.session.messages
    last = messages.index(messages.rowCount() - 1)
    assert last.data(FINISH_ROLE) == "cancelled"
    assert "stopped" in window.transcript.toPlainText()
    partial = _last(window)
    wait_idle(qtbot, window)
    assert _last(window) == partial  # nothing arrived after Stop
    chat_id = window.session.current_chat_id or ""

    def stored() -> bool:
        try:
            return api.get_chat(chat_id).messages[-1].finish_reason == "cancelled"
        except ApiClientError:
            return False

    qtbot.waitUntil(stored, timeout=WAIT_MS)
    assert len(partial.split()) < 200


def test_a_stopped_reply_reloads_from_the_server_still_marked(
    qtbot,
    window: MainWindow,
    fake_ollama,
    api: ApiClient,  # noqa: ANN001
) -> None:
    fake_ollama.tokens = [f"w{i} " for i in range(200)]
    fake_ollama.token_delay = 0.05
    _send(qtbot, window, "Go on")
    qtbot.waitUntil(lambda: len(_last(window).split()) >= 2, timeout=WAIT_MS)
    qtbot.keyClick(window, Qt.Key.Key_Escape)  # Stop Reply
    assert not window.session.busy
    chat_id = window.session.current_chat_id or ""
    qtbot.waitUntil(lambda: len(api.list_chats()) == 1, timeout=WAIT_MS)
    qtbot.waitUntil(
        lambda: api.get_chat(chat_id).messages[-1].finish_reason == "cancelled",
        timeout=WAIT_MS,
    )
    qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert window.session.messages.rowCount() == 0
    wait_idle(qtbot, window)
    _click_chat(qtbot, window, _titles(window)[0])
    wait_idle(qtbot, window)
    assert window.session.messages.index(2).data(FINISH_ROLE) == "cancelled"
    assert "stopped" in window.transcript.toPlainText()


@pytest.fixture
def two_chats(api: ApiClient) -> None:
    api.chat("Tell me about penguins", chat_id="penguins")
    api.chat("Tell me about tigers", chat_id="tigers")


@pytest.fixture
def chats_window(
    two_chats: None, open_window: Callable[[Settings], MainWindow], remote_settings: Settings
) -> MainWindow:
    return open_window(remote_settings)


def test_chats_are_listed_newest_first_and_open_on_click(
    qtbot,
    chats_window: MainWindow,  # noqa: ANN001
) -> None:
    window = chats_window
    ids = [window.session.chats.chat(r).id for r in range(2)]
    assert ids == ["tigers", "penguins"]
    _click_chat(qtbot, window, _titles(window)[1])
    wait_idle(qtbot, window)
    assert window.session.current_chat_id == "penguins"
    assert "Tell me about penguins" in window.transcript.toPlainText()


def test_new_chat_clears_the_conversation(qtbot, chats_window: MainWindow) -> None:  # noqa: ANN001
    window = chats_window
    _click_chat(qtbot, window, _titles(window)[0])
    wait_idle(qtbot, window)
    qtbot.mouseClick(window.sidebar.new_button, Qt.MouseButton.LeftButton)
    assert window.session.current_chat_id is None
    assert window.session.messages.rowCount() == 0
    assert not window.sidebar.list.currentIndex().isValid()


def test_search_filters_the_list_by_message_text(qtbot, chats_window: MainWindow) -> None:  # noqa: ANN001
    window = chats_window
    qtbot.keyClicks(window.sidebar.search, "penguin")
    qtbot.waitUntil(lambda: window.session.chats.rowCount() == 1, timeout=WAIT_MS)
    assert window.session.chats.chat(0).id == "penguins"
    window.sidebar.search.clear()
    qtbot.waitUntil(lambda: window.session.chats.rowCount() == 2, timeout=WAIT_MS)


def test_f2_renames_the_chat_in_place(
    qtbot,
    chats_window: MainWindow,
    api: ApiClient,  # noqa: ANN001
) -> None:
    window = chats_window
    _click_chat(qtbot, window, _titles(window)[1])
    wait_idle(qtbot, window)
    qtbot.keyClick(window.sidebar.list, Qt.Key.Key_F2)
    editor = window.sidebar.list.findChild(QLineEdit, "renameEditor")
    assert editor is not None and editor.isVisible()
    editor.selectAll()
    qtbot.keyClicks(editor, "Birds of the south")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: "Birds of the south" in _titles(window), timeout=WAIT_MS)
    assert api.get_chat("penguins").title == "Birds of the south"
    assert window.windowTitle().startswith("Birds of the south")


def test_delete_asks_first_then_removes_the_chat_and_opens_the_next(
    qtbot,
    chats_window: MainWindow,
    api: ApiClient,  # noqa: ANN001
) -> None:
    window = chats_window
    _click_chat(qtbot, window, _titles(window)[0])
    wait_idle(qtbot, window)
    focus(qtbot, window.sidebar.list)  # Del deletes only from the list
    with answering(click(Button.Cancel)):
        qtbot.keyClick(window.sidebar.list, Qt.Key.Key_Delete)
    assert len(_titles(window)) == 2
    focus(qtbot, window.sidebar.list)
    with answering(click(Button.Yes)):
        qtbot.keyClick(window.sidebar.list, Qt.Key.Key_Delete)
    qtbot.waitUntil(lambda: len(_titles(window)) == 1, timeout=WAIT_MS)
    wait_idle(qtbot, window)
    assert [c.id for c in api.list_chats()] == ["penguins"]
    assert window.session.current_chat_id == "penguins"  # the next chat opens
    assert "Tell me about penguins" in window.transcript.toPlainText()


def test_the_delete_key_in_the_composer_edits_text_only(
    qtbot,
    chats_window: MainWindow,  # noqa: ANN001
) -> None:
    window = chats_window
    _click_chat(qtbot, window, _titles(window)[0])
    qtbot.keyClicks(window.composer.edit, "abc")
    qtbot.keyClick(window.composer.edit, Qt.Key.Key_Home)
    qtbot.keyClick(window.composer.edit, Qt.Key.Key_Delete)
    assert window.composer.text() == "bc"
    assert len(_titles(window)) == 2


def test_copy_puts_the_message_text_on_the_clipboard(
    qtbot,
    chats_window: MainWindow,  # noqa: ANN001
) -> None:
    window = chats_window
    _click_chat(qtbot, window, _titles(window)[0])
    wait_idle(qtbot, window)
    document = window.transcript.document()
    cursor = document.find("Copy", 0)
    cursor = document.find("Copy", cursor)  # the second message: the user's
    rect = window.transcript.cursorRect(cursor)
    qtbot.mouseClick(window.transcript.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert QGuiApplication.clipboard().text() == "Tell me about tigers"


def test_models_come_from_the_server_and_the_pick_is_used(
    qtbot,
    window: MainWindow,
    fake_ollama,  # noqa: ANN001
) -> None:
    combo = window.model_combo
    assert [combo.itemText(i) for i in range(combo.count())] == fake_ollama.models
    combo.showPopup()
    rect = combo.view().visualRect(combo.model().index(1, 0))
    qtbot.mouseClick(combo.view().viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert window.status.model_label.text() == f"Model: {fake_ollama.models[1]}"
    _send(qtbot, window, "Which model?")
    qtbot.waitUntil(lambda: not window.session.busy, timeout=WAIT_MS)
    assert fake_ollama.requests[-1].json["model"] == fake_ollama.models[1]


def _save_as(path: Path) -> Callable[[QWidget], None]:
    def handle(dialog: QWidget) -> None:
        assert isinstance(dialog, QFileDialog)
        dialog.setDirectory(str(path.parent))
        name_edit = dialog.findChild(QLineEdit, "fileNameEdit")  # Qt's own (non-native) dialog
        assert name_edit is not None
        name_edit.setText(path.name)  # as typed by the user
        dialog.accept()

    return handle


@pytest.mark.parametrize(("fmt", "marker"), [("markdown", "tigers"), ("json", '"role"')])
def test_export_saves_the_servers_file(
    qtbot,
    chats_window: MainWindow,
    tmp_path: Path,
    fmt: str,
    marker: str,  # noqa: ANN001
) -> None:
    window = chats_window
    _click_chat(qtbot, window, _titles(window)[0])
    wait_idle(qtbot, window)
    target = tmp_path / f"export.{fmt}"
    with answering(_save_as(target)):
        window.menu.export[fmt].trigger()
    qtbot.waitUntil(target.exists, timeout=WAIT_MS)
    wait_idle(qtbot, window)
    assert marker in target.read_text(encoding="utf-8")
    assert str(target) in window.status.currentMessage()


def test_the_shortcut_list_names_the_main_keys(qtbot, window: MainWindow) -> None:  # noqa: ANN001
    shown: list[str] = []

    def read_and_close(dialog: QWidget) -> None:
        table = dialog.findChild(QWidget, "shortcutTable")
        model = table.model()  # type: ignore[attr-defined]
        shown.extend(model.index(r, 1).data() for r in range(model.rowCount(QModelIndex())))
        dialog.close()

    with answering(read_and_close):
        qtbot.keyClick(window, Qt.Key.Key_F1)
    assert {"New Chat", "Rename Chat", "Stop Reply", "Send the message"} <= set(shown)


def test_a_long_chat_shows_its_latest_messages_and_more_on_request(
    qtbot,
    open_window: Callable[[Settings], MainWindow],
    remote_settings: Settings,
    api: ApiClient,  # noqa: ANN001
) -> None:
    for i in range(21):  # 43 messages with the system prompt: more than one window
        api.chat(f"question {i}", chat_id="long")
    window = open_window(remote_settings)
    _click_chat(qtbot, window, _titles(window)[0])
    wait_idle(qtbot, window)
    transcript = window.transcript
    hidden = window.session.messages.rowCount() - transcript.WINDOW
    assert f"Show {hidden} earlier messages" in transcript.toPlainText()
    assert "question 20" in transcript.toPlainText()
    assert "question 0\n" not in transcript.toPlainText()
    cursor = transcript.document().find("Show ")
    transcript.verticalScrollBar().setValue(0)
    rect = transcript.cursorRect(cursor)
    qtbot.mouseClick(transcript.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert transcript.first_shown == 0
    assert "question 0" in transcript.toPlainText()
    assert "earlier messages" not in transcript.toPlainText()
