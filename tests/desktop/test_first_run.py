"""The first-run connection dialog, local mode's embedded server, and where keys are kept."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import requests
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QDialog

from desktop.dialogs.connection import ConnectionDialog
from desktop.main_window import MainWindow
from desktop.settings import KEYRING_SERVICE, Connection, Settings
from desktop.workers import WorkerPool
from tests.desktop.conftest import MemoryKeyring
from tests.desktop.helpers import WAIT_MS, close_window, wait_idle


@pytest.fixture
def dialog(qtbot, settings: Settings) -> Iterator[ConnectionDialog]:  # noqa: ANN001
    pool = WorkerPool()
    dialog = ConnectionDialog(settings, pool)
    qtbot.addWidget(dialog)
    dialog.show()
    yield dialog
    pool.shutdown()


def _connect(qtbot, dialog: ConnectionDialog) -> None:  # noqa: ANN001
    qtbot.mouseClick(dialog.connect_button, Qt.MouseButton.LeftButton)


def test_local_is_the_default_and_needs_no_input(
    qtbot,
    dialog: ConnectionDialog,
    settings: Settings,
    settings_file: Path,  # noqa: ANN001
) -> None:
    assert dialog.local_radio.isChecked() and not dialog.remote_form.isEnabled()
    _connect(qtbot, dialog)
    assert dialog.result() == QDialog.DialogCode.Accepted
    connection = settings.connection()
    assert connection is not None and connection.mode == "local"
    assert connection.api_key.startswith("ck_") and len(connection.api_key) >= 35
    assert connection.api_key in settings_file.read_text()  # no keyring in tests...
    assert "settings file" in dialog.notice.text()  # ...and the dialog says so


def test_the_local_key_is_made_once_and_kept(make_settings: Callable[[], Settings]) -> None:
    first = make_settings()
    first.set_connection(Connection("local"))
    again = make_settings().connection()
    assert again is not None and again.api_key == first.local_api_key()


def test_remote_checks_the_key_with_the_server_before_saving(
    qtbot,
    dialog: ConnectionDialog,
    settings: Settings,
    live_server,
    admin_key: str,  # noqa: ANN001
) -> None:
    qtbot.mouseClick(dialog.remote_radio, Qt.MouseButton.LeftButton)
    assert dialog.remote_form.isEnabled()
    qtbot.keyClicks(dialog.url_edit, live_server.url)
    qtbot.keyClicks(dialog.key_edit, "ck_" + "n" * 40)
    _connect(qtbot, dialog)
    qtbot.waitUntil(lambda: "API key" in dialog.status.text(), timeout=WAIT_MS)
    assert dialog.isVisible() and settings.connection() is None
    dialog.key_edit.clear()
    qtbot.keyClicks(dialog.key_edit, admin_key)
    _connect(qtbot, dialog)
    qtbot.waitUntil(lambda: dialog.result() == QDialog.DialogCode.Accepted, timeout=WAIT_MS)
    assert settings.connection() == Connection("remote", live_server.url, admin_key)


def test_remote_needs_a_url_and_a_key(qtbot, dialog: ConnectionDialog, settings: Settings) -> None:  # noqa: ANN001
    qtbot.mouseClick(dialog.remote_radio, Qt.MouseButton.LeftButton)
    qtbot.keyClicks(dialog.url_edit, "chat.example.com")
    _connect(qtbot, dialog)
    assert "http://" in dialog.status.text() and settings.connection() is None


def test_with_a_keyring_the_key_never_reaches_the_settings_file(
    memory_keyring: MemoryKeyring, settings_file: Path, tmp_path: Path
) -> None:
    settings = Settings(QSettings(str(settings_file), QSettings.Format.IniFormat), True, tmp_path)
    assert settings.set_connection(Connection("remote", "http://chat.test", "ck_secret_value"))
    settings.sync()
    assert memory_keyring.secrets[(KEYRING_SERVICE, "http://chat.test")] == "ck_secret_value"
    assert "ck_secret_value" not in settings_file.read_text()
    assert settings.connection() == Connection("remote", "http://chat.test", "ck_secret_value")
    assert settings.key_in_keyring


def test_local_mode_runs_an_embedded_server_until_the_window_closes(
    qtbot,  # noqa: ANN001
    themes,  # noqa: ANN001
    settings: Settings,
    fake_ollama,  # noqa: ANN001
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("OLLAMA_HOST", fake_ollama.url)
    settings.set_connection(Connection("local"))
    window = MainWindow(settings, themes)
    window.show()
    window.connection.connect_to(Connection("local", api_key=settings.local_api_key()))
    qtbot.waitUntil(
        lambda: window.status.connection_label.property("state") == "connected", timeout=WAIT_MS
    )
    wait_idle(qtbot, window)
    assert "local server" in window.status.connection_label.text()
    server = window.connection.local_server
    assert server is not None and server.url.startswith("http://127.0.0.1:")
    assert (tmp_path / "data" / "chatapp.db").exists()
    qtbot.keyClicks(window.composer.edit, "Hello, local")
    qtbot.keyClick(window.composer.edit, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not window.session.busy, timeout=WAIT_MS)
    messages = window.session.messages
    assert messages.message(messages.rowCount() - 1).content == "Hello world!"
    url = server.url
    close_window(window)
    assert window.connection.local_server is None
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/health", timeout=2)
