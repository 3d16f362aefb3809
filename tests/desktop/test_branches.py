"""Branches in the main window (SPEC 14): edit and resend, regenerate, the "‹ 2 / 3 ›" switcher
and deleting a branch, by the real widgets against a real server and a fake Ollama."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor
from PySide6.QtWidgets import QMessageBox

from desktop.api_client import ApiClient
from desktop.dialogs.shortcuts import ShortcutsDialog
from desktop.main_window import MainWindow
from tests.desktop.helpers import WAIT_MS, answering, click, focus, open_chat, wait_idle
from tests.fakes.ollama import FakeOllama
from tests.servers import free_port

Button = QMessageBox.StandardButton


@pytest.fixture
def ollama() -> Iterator[FakeOllama]:
    """A fake Ollama of this module's own, on a fixed port, so a test can take it down and
    bring it back."""
    with FakeOllama(port=free_port()) as fake:
        yield fake


@pytest.fixture
def app_overrides(ollama: FakeOllama) -> dict:
    return {"OLLAMA_HOST": ollama.url, "CHAT_RATE_LIMIT": "1000/minute"}  # long chats are made


@pytest.fixture
def api(live_server, admin_key: str) -> Iterator[ApiClient]:  # noqa: ANN001
    client = ApiClient(live_server.url, admin_key)
    yield client
    client.close()


def _turn(qtbot, window: MainWindow, ollama: FakeOllama, text: str, reply: str) -> None:  # noqa: ANN001
    """Type `text`, press Enter, and wait for `reply` to be stored and its ids read."""
    ollama.tokens = [reply]
    qtbot.keyClicks(window.composer.edit, text)
    qtbot.keyClick(window.composer.edit, Qt.Key.Key_Return)
    _settle(qtbot, window)


def _settle(qtbot, window: MainWindow) -> None:  # noqa: ANN001
    qtbot.waitUntil(lambda: not window.session.busy, timeout=WAIT_MS)
    wait_idle(qtbot, window)


def _shown(window: MainWindow) -> list[str]:
    """The texts of the user and assistant messages of the transcript (checked on the page
    from the first one rendered)."""
    messages = window.session.messages
    rows = [messages.message(row) for row in range(messages.rowCount())]
    page = window.transcript.toPlainText()
    assert all(m.content in page for m in rows[window.transcript.first_shown :])
    return [m.content for m in rows if m.role != "system"]


def _stored(api: ApiClient, window: MainWindow) -> list[str]:
    chat = api.get_chat(window.session.current_chat_id or "")
    return [m.content for m in chat.messages if m.role != "system"]


def _click_link(qtbot, window: MainWindow, href: str) -> None:  # noqa: ANN001
    """Click the transcript's link to `href` with the mouse, as the user would."""
    transcript = window.transcript
    document = transcript.document()
    block = document.begin()
    while block.isValid():
        fragments = block.begin()
        while not fragments.atEnd():
            fragment = fragments.fragment()
            if fragment.charFormat().anchorHref() == href:
                cursor = QTextCursor(document)
                cursor.setPosition(fragment.position() + fragment.length() // 2)
                transcript.setTextCursor(cursor)
                transcript.ensureCursorVisible()
                point = transcript.cursorRect(cursor).center()
                qtbot.mouseClick(transcript.viewport(), Qt.MouseButton.LeftButton, pos=point)
                return
            fragments += 1
        block = block.next()
    raise AssertionError(f"no link to {href} in the transcript")


def _row(window: MainWindow, text: str) -> int:
    messages = window.session.messages
    return next(r for r in range(messages.rowCount()) if messages.message(r).content == text)


def _two_answers(qtbot, window: MainWindow, ollama: FakeOllama) -> None:  # noqa: ANN001
    """A question answered twice: "Four." first, then "4, of course." (regenerated)."""
    _turn(qtbot, window, ollama, "What is 2+2?", "Four.")
    ollama.tokens = ["4, of course."]
    focus(qtbot, window.composer.edit)
    qtbot.keyClick(window.composer.edit, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    _settle(qtbot, window)


def test_up_edits_the_last_message_and_save_sends_it_on_a_new_branch(
    qtbot,
    window: MainWindow,
    ollama: FakeOllama,
    api: ApiClient,  # noqa: ANN001
) -> None:
    _turn(qtbot, window, ollama, "What is 2+2?", "Four.")
    _turn(qtbot, window, ollama, "And 3+3?", "Six.")
    focus(qtbot, window.composer.edit)
    qtbot.keyClick(window.composer.edit, Qt.Key.Key_Up)
    assert window.composer.editing and window.composer.text() == "And 3+3?"
    assert window.composer.button.text() == "Save && send"
    assert "editing, in the box below" in window.transcript.toPlainText()  # on its card
    window.composer.edit.selectAll()
    ollama.tokens = ["Ten."]
    qtbot.keyClicks(window.composer.edit, "And 5+5?")
    qtbot.keyClick(window.composer.edit, Qt.Key.Key_Return)
    _settle(qtbot, window)
    assert _shown(window) == ["What is 2+2?", "Four.", "And 5+5?", "Ten."]
    assert _stored(api, window) == _shown(window)
    assert "‹ 2 / 2 ›" in window.transcript.toPlainText()  # on the edited message
    sent = [m["content"] for m in ollama.requests[-1].json["messages"] if m["role"] != "system"]
    assert sent == ["What is 2+2?", "Four.", "And 5+5?"]  # not the first version
    assert not window.composer.editing and window.composer.text() == ""


def test_edit_link_on_an_earlier_message_branches_from_there(
    qtbot,
    window: MainWindow,
    ollama: FakeOllama,
    api: ApiClient,  # noqa: ANN001
) -> None:
    _turn(qtbot, window, ollama, "What is 2+2?", "Four.")
    _turn(qtbot, window, ollama, "And 3+3?", "Six.")
    _click_link(qtbot, window, f"edit:{_row(window, 'What is 2+2?')}")
    assert window.composer.text() == "What is 2+2?"
    window.composer.edit.setPlainText("What is 2+3?")
    ollama.tokens = ["Five."]
    qtbot.mouseClick(window.composer.button, Qt.MouseButton.LeftButton)
    _settle(qtbot, window)
    assert _shown(window) == ["What is 2+3?", "Five."]
    assert _stored(api, window) == ["What is 2+3?", "Five."]


def test_esc_cancels_an_edit_and_gives_the_draft_back(
    qtbot,
    window: MainWindow,
    ollama: FakeOllama,  # noqa: ANN001
) -> None:
    _turn(qtbot, window, ollama, "What is 2+2?", "Four.")
    _click_link(qtbot, window, f"edit:{_row(window, 'What is 2+2?')}")
    focus(qtbot, window.composer.edit)
    qtbot.keyClicks(window.composer.edit, " Really?")
    qtbot.keyClick(window.composer.edit, Qt.Key.Key_Escape)
    assert not window.composer.editing and window.composer.text() == ""
    assert not window.composer.edit_bar.isVisible()
    assert "editing" not in window.transcript.toPlainText()
    assert _shown(window) == ["What is 2+2?", "Four."]
    assert [r.path for r in ollama.requests].count("/api/chat") == 1


def test_other_branch_actions_wait_while_an_edit_is_open(
    qtbot,
    window: MainWindow,
    ollama: FakeOllama,  # noqa: ANN001
) -> None:
    _turn(qtbot, window, ollama, "What is 2+2?", "Four.")
    focus(qtbot, window.composer.edit)
    qtbot.keyClick(window.composer.edit, Qt.Key.Key_Up)
    qtbot.keyClicks(window.composer.edit, " Exactly?")
    qtbot.keyClick(window.composer.edit, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    wait_idle(qtbot, window)
    assert "cancel it" in window.status.currentMessage()
    assert window.composer.editing and window.composer.text() == "What is 2+2? Exactly?"
    assert _shown(window) == ["What is 2+2?", "Four."]
    assert [r.path for r in ollama.requests].count("/api/chat") == 1


def test_ctrl_r_regenerates_the_reply_with_the_model_picked(
    qtbot,
    window: MainWindow,
    ollama: FakeOllama,
    api: ApiClient,  # noqa: ANN001
) -> None:
    _turn(qtbot, window, ollama, "What is 2+2?", "Four.")
    other = ollama.models[1]
    window.model_combo.setCurrentText(other)
    window.model_combo.activated.emit(window.model_combo.currentIndex())
    ollama.tokens = ["4, of course."]
    focus(qtbot, window.composer.edit)
    qtbot.keyClick(window.composer.edit, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    assert "replying…" in window.transcript.toPlainText()
    _settle(qtbot, window)
    assert _shown(window) == ["What is 2+2?", "4, of course."]
    assert _stored(api, window) == _shown(window)
    last = window.session.messages.message(window.session.messages.rowCount() - 1)
    assert last.model == other and last.branch == (2, 2)
    assert "‹ 2 / 2 ›" in window.transcript.toPlainText()
    assert ollama.requests[-1].json["model"] == other
    sent = [m["content"] for m in ollama.requests[-1].json["messages"] if m["role"] != "system"]
    assert sent == ["What is 2+2?"]


def test_a_stopped_regenerate_stays_as_a_stopped_answer_beside_the_first(
    qtbot,
    window: MainWindow,
    ollama: FakeOllama,
    api: ApiClient,  # noqa: ANN001
) -> None:
    _turn(qtbot, window, ollama, "Count slowly", "1 2 3.")
    ollama.tokens = [f"n{i} " for i in range(200)]
    ollama.token_delay = 0.05
    focus(qtbot, window.composer.edit)
    qtbot.keyClick(window.composer.edit, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    last = window.session.messages.rowCount() - 1
    qtbot.waitUntil(
        lambda: len(window.session.messages.message(last).content.split()) >= 3, timeout=WAIT_MS
    )
    qtbot.mouseClick(window.composer.button, Qt.MouseButton.LeftButton)  # Stop
    qtbot.waitUntil(lambda: bool(window.session.messages.message(last).id), timeout=WAIT_MS)
    wait_idle(qtbot, window)
    stopped = window.session.messages.message(last)
    assert stopped.finish_reason == "cancelled" and stopped.branch == (2, 2)
    page = window.transcript.toPlainText()
    assert "stopped" in page and "‹ 2 / 2 ›" in page and "Regenerate" in page
    assert api.get_chat(window.session.current_chat_id or "").messages[-1].finish_reason == (
        "cancelled"
    )


def test_the_regenerate_link_of_an_earlier_reply_answers_that_question_again(
    qtbot,
    window: MainWindow,
    ollama: FakeOllama,
    api: ApiClient,  # noqa: ANN001
) -> None:
    _turn(qtbot, window, ollama, "What is 2+2?", "Four.")
    _turn(qtbot, window, ollama, "And 3+3?", "Six.")
    ollama.tokens = ["IV."]
    _click_link(qtbot, window, f"regen:{_row(window, 'Four.')}")
    _settle(qtbot, window)
    assert _shown(window) == ["What is 2+2?", "IV."]
    assert _stored(api, window) == ["What is 2+2?", "IV."]


def test_the_arrows_switch_between_the_answers(
    qtbot,
    window: MainWindow,
    ollama: FakeOllama,
    api: ApiClient,  # noqa: ANN001
) -> None:
    _two_answers(qtbot, window, ollama)
    _click_link(qtbot, window, f"branch:{_row(window, '4, of course.')}:-1")
    wait_idle(qtbot, window)
    assert _shown(window) == ["What is 2+2?", "Four."]
    assert "‹ 1 / 2 ›" in window.transcript.toPlainText()
    assert _stored(api, window) == ["What is 2+2?", "Four."]  # the server's current branch
    _click_link(qtbot, window, f"branch:{_row(window, 'Four.')}:1")
    wait_idle(qtbot, window)
    assert _shown(window) == ["What is 2+2?", "4, of course."]
    assert _stored(api, window) == _shown(window)


def test_switching_far_up_a_long_chat_keeps_that_message_in_view(
    qtbot,
    window: MainWindow,
    ollama: FakeOllama,
    api: ApiClient,  # noqa: ANN001
) -> None:
    for i in range(30):  # more messages than the transcript shows at first
        ollama.tokens = [f"Answer {i}."]
        api.chat(f"Question {i}?", chat_id="long")
    first_reply = api.get_chat("long").messages[2]
    ollama.tokens = ["Another first answer."]
    api.regenerate("long", first_reply.id)
    window.session.load_chats()
    wait_idle(qtbot, window)
    open_chat(qtbot, window, "long")
    assert _shown(window) == ["Question 0?", "Another first answer."]
    _click_link(qtbot, window, f"branch:{_row(window, 'Another first answer.')}:-1")
    wait_idle(qtbot, window)
    assert len(_shown(window)) == 60  # the long branch, continued to its leaf
    row = _row(window, "Answer 0.")
    transcript = window.transcript
    assert transcript.first_shown <= row
    frame = transcript.document().rootFrame().childFrames()[row - transcript.first_shown]
    cursor = QTextCursor(transcript.document())
    cursor.setPosition(frame.firstPosition())
    assert transcript.viewport().rect().contains(transcript.cursorRect(cursor).topLeft())


def test_a_new_message_continues_the_branch_switched_to(
    qtbot,
    window: MainWindow,
    ollama: FakeOllama,
    api: ApiClient,  # noqa: ANN001
) -> None:
    _two_answers(qtbot, window, ollama)
    _click_link(qtbot, window, f"branch:{_row(window, '4, of course.')}:-1")
    wait_idle(qtbot, window)
    _turn(qtbot, window, ollama, "Thanks", "You're welcome.")
    assert _shown(window) == ["What is 2+2?", "Four.", "Thanks", "You're welcome."]
    assert _stored(api, window) == _shown(window)


def test_deleting_a_branch_asks_first_and_shows_the_branch_left(
    qtbot,
    window: MainWindow,
    ollama: FakeOllama,
    api: ApiClient,  # noqa: ANN001
) -> None:
    _two_answers(qtbot, window, ollama)
    href = f"delete:{_row(window, '4, of course.')}"
    with answering(click(Button.Cancel)):
        _click_link(qtbot, window, href)
    wait_idle(qtbot, window)
    assert _stored(api, window) == ["What is 2+2?", "4, of course."]
    with answering(click(Button.Yes)):
        _click_link(qtbot, window, href)
    wait_idle(qtbot, window)
    assert _shown(window) == ["What is 2+2?", "Four."]
    assert _stored(api, window) == ["What is 2+2?", "Four."]
    assert "1 / 2" not in window.transcript.toPlainText()  # no siblings left, no switcher


def test_a_regenerate_with_the_provider_down_changes_nothing(
    qtbot,
    window: MainWindow,
    ollama: FakeOllama,
    api: ApiClient,  # noqa: ANN001
) -> None:
    _turn(qtbot, window, ollama, "What is 2+2?", "Four.")
    ollama.stop()
    focus(qtbot, window.composer.edit)
    qtbot.keyClick(window.composer.edit, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(window.banner.isVisible, timeout=WAIT_MS)
    _settle(qtbot, window)
    assert "model provider is not reachable" in window.banner.label.text()
    assert _shown(window) == ["What is 2+2?", "Four."]
    assert "replying…" not in window.transcript.toPlainText()
    assert window.composer.button.text() == "Send"
    assert _stored(api, window) == ["What is 2+2?", "Four."]
    assert api.get_chat(window.session.current_chat_id or "").messages[-1].sibling_ids == [
        window.session.messages.message(_row(window, "Four.")).id
    ]


def test_retry_regenerates_once_the_provider_is_back(
    qtbot,
    window: MainWindow,
    ollama: FakeOllama,
    api: ApiClient,  # noqa: ANN001
) -> None:
    _turn(qtbot, window, ollama, "What is 2+2?", "Four.")
    ollama.stop()
    focus(qtbot, window.composer.edit)
    qtbot.keyClick(window.composer.edit, Qt.Key.Key_R, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(window.banner.isVisible, timeout=WAIT_MS)
    _settle(qtbot, window)
    ollama.start()
    ollama.tokens = ["4, of course."]
    qtbot.mouseClick(window.banner.retry_button, Qt.MouseButton.LeftButton)
    _settle(qtbot, window)
    assert _shown(window) == ["What is 2+2?", "4, of course."]
    assert _stored(api, window) == _shown(window)
    assert "‹ 2 / 2 ›" in window.transcript.toPlainText()


def test_the_shortcuts_dialog_lists_regenerate_and_edit(window: MainWindow) -> None:
    dialog = ShortcutsDialog(window.actions(), window)
    table = dialog.table
    rows = {table.item(r, 0).text(): table.item(r, 1).text() for r in range(table.rowCount())}
    assert rows["Ctrl+R"] == "Regenerate Last Reply"
    assert rows["Up (in an empty message box)"] == "Edit your last message"
    assert rows["Esc (while editing a message)"] == "Cancel the edit"
    dialog.deleteLater()


def test_a_failed_edit_keeps_the_edited_text_in_the_editor(
    qtbot,
    window: MainWindow,
    ollama: FakeOllama,
    api: ApiClient,  # noqa: ANN001
) -> None:
    _turn(qtbot, window, ollama, "What is 2+2?", "Four.")
    ollama.stop()
    focus(qtbot, window.composer.edit)
    qtbot.keyClick(window.composer.edit, Qt.Key.Key_Up)
    window.composer.edit.setPlainText("What is 2+3?")
    qtbot.keyClick(window.composer.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(window.banner.isVisible, timeout=WAIT_MS)
    _settle(qtbot, window)
    assert window.composer.editing and window.composer.text() == "What is 2+3?"
    assert _shown(window) == ["What is 2+2?", "Four."]
    assert _stored(api, window) == ["What is 2+2?", "Four."]
    assert "replying…" not in window.transcript.toPlainText()
