"""Every failure shows a non-modal banner with Retry; none crashes the app or goes unseen."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from desktop.dialogs.connection import ConnectionDialog
from desktop.main_window import MainWindow
from desktop.settings import Connection, Settings
from tests.desktop.helpers import WAIT_MS, answering, wait_idle

DEAD_OLLAMA = "http://127.0.0.1:9"  # the discard port: nothing listens there


def _send(qtbot, window: MainWindow, text: str) -> None:  # noqa: ANN001
    qtbot.keyClicks(window.composer.edit, text)
    qtbot.keyClick(window.composer.edit, Qt.Key.Key_Return)


def _banner_after_send(qtbot, window: MainWindow, text: str = "Hello?") -> str:  # noqa: ANN001
    _send(qtbot, window, text)
    qtbot.waitUntil(window.banner.isVisible, timeout=WAIT_MS)
    wait_idle(qtbot, window)
    return window.banner.label.text()


def test_an_unreachable_server_shows_offline_with_retry(
    qtbot,
    open_window: Callable[[Settings], MainWindow],
    settings: Settings,
    dead_url: str,  # noqa: ANN001
) -> None:
    settings.set_connection(Connection("remote", dead_url, "ck_" + "k" * 40))
    window = open_window(settings)
    assert window.banner.isVisible() and window.banner.retry_button.isVisible()
    assert "Cannot reach the server" in window.banner.label.text()
    assert window.status.connection_label.property("state") == "offline"
    qtbot.mouseClick(window.banner.retry_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(window.banner.isVisible, timeout=WAIT_MS)  # still down: shown again
    wait_idle(qtbot, window)


def test_a_rejected_key_leads_to_settings_where_the_connection_is_fixed(
    qtbot,  # noqa: ANN001
    open_window: Callable[[Settings], MainWindow],
    settings: Settings,
    live_server,  # noqa: ANN001
    admin_key: str,
) -> None:
    settings.set_connection(Connection("remote", live_server.url, "ck_" + "w" * 40))
    window = open_window(settings)
    assert "Unknown or revoked API key" in window.banner.label.text()
    assert window.banner.settings_button.isVisible()
    qtbot.mouseClick(window.banner.settings_button, Qt.MouseButton.LeftButton)
    dialog = window.settings_dialog
    assert dialog is not None and dialog.isVisible()

    def enter_the_right_key(connection: QWidget) -> None:
        assert isinstance(connection, ConnectionDialog)
        assert connection.remote_radio.isChecked()
        connection.key_edit.setText(admin_key)
        qtbot.mouseClick(connection.connect_button, Qt.MouseButton.LeftButton)

    with answering(enter_the_right_key):
        qtbot.mouseClick(dialog.change_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: window.status.connection_label.property("state") == "connected", timeout=WAIT_MS
    )
    wait_idle(qtbot, window)
    assert not window.banner.isVisible()
    assert settings.connection() == Connection("remote", live_server.url, admin_key)


@pytest.mark.usefixtures("clear_of_a_minute_edge")
@pytest.mark.parametrize("app_overrides", [{"CHAT_RATE_LIMIT": "1/minute"}])
def test_rate_limited_shows_the_wait_from_retry_after(qtbot, window: MainWindow) -> None:  # noqa: ANN001
    _send(qtbot, window, "first")
    qtbot.waitUntil(lambda: not window.session.busy, timeout=WAIT_MS)
    text = _banner_after_send(qtbot, window, "second")
    assert "too many requests. Try again in" in text and text.endswith(" s.")
    assert window.banner.info is not None and (window.banner.info.retry_after or 0) > 0
    assert window.composer.button.text() == "Send"
    assert window.session.messages.rowCount() == 2  # the first turn only
    assert window.session.messages.message(0).content == "first"


@pytest.mark.parametrize("app_overrides", [{"OLLAMA_HOST": DEAD_OLLAMA}])
def test_provider_down_shows_a_banner_and_retry_sends_again(
    qtbot,
    window: MainWindow,
    fake_ollama,  # noqa: ANN001
) -> None:
    text = _banner_after_send(qtbot, window, "Are you there?")
    assert "model provider is not reachable" in text
    assert window.session.messages.rowCount() == 0  # nothing was stored
    qtbot.mouseClick(window.banner.retry_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(window.banner.isVisible, timeout=WAIT_MS)
    wait_idle(qtbot, window)
    assert window.session.messages.rowCount() == 0


@pytest.mark.parametrize("app_overrides", [{"LLM_TIMEOUT": 0.5}])
def test_provider_timeout_shows_a_banner(qtbot, window: MainWindow, fake_ollama) -> None:  # noqa: ANN001
    fake_ollama.hang = True
    text = _banner_after_send(qtbot, window)
    assert "took too long" in text
    assert window.composer.button.text() == "Send"


@pytest.mark.parametrize("app_overrides", [{"MAX_MESSAGE_CHARS": 20}])
def test_an_invalid_message_shows_the_validation_error(qtbot, window: MainWindow) -> None:  # noqa: ANN001
    text = _banner_after_send(qtbot, window, "x" * 40)
    assert window.banner.info is not None and window.banner.info.kind == "invalid"
    assert "message" in text
    assert window.session.messages.rowCount() == 0


def test_retry_after_a_provider_failure_succeeds_once_it_is_back(
    qtbot,
    window: MainWindow,
    fake_ollama,  # noqa: ANN001
) -> None:
    fake_ollama.error_after = 1
    _banner_after_send(qtbot, window, "Try this")
    fake_ollama.error_after = None
    qtbot.mouseClick(window.banner.retry_button, Qt.MouseButton.LeftButton)
    assert not window.banner.isVisible()
    qtbot.waitUntil(lambda: not window.session.busy, timeout=WAIT_MS)
    wait_idle(qtbot, window)
    messages = window.session.messages
    assert [messages.message(r).content for r in range(messages.rowCount())][-2:] == [
        "Try this",
        "Hello world!",
    ]


def test_an_unexpected_error_in_a_worker_is_shown_and_logged(
    qtbot,
    window: MainWindow,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,  # noqa: ANN001
) -> None:
    _send(qtbot, window, "Something to export")
    qtbot.waitUntil(lambda: not window.session.busy, timeout=WAIT_MS)
    window.session.export_chat("markdown", tmp_path / "missing-folder" / "chat.md")
    qtbot.waitUntil(window.banner.isVisible, timeout=WAIT_MS)
    assert "unexpected error (FileNotFoundError" in window.banner.label.text()
    assert any(
        r.levelno == logging.ERROR and r.exc_info and "Exporting" in r.getMessage()
        for r in caplog.records
    )


def test_dismissing_the_banner_hides_it(qtbot, window: MainWindow, fake_ollama) -> None:  # noqa: ANN001
    fake_ollama.fail_status = 500
    _banner_after_send(qtbot, window)
    qtbot.mouseClick(window.banner.close_button, Qt.MouseButton.LeftButton)
    assert not window.banner.isVisible()
