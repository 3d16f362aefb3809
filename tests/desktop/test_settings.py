"""What the app remembers between runs: theme, font size, window geometry, splitter, last chat."""

from __future__ import annotations

import stat
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from desktop.api_client import ApiClient
from desktop.main_window import MainWindow
from desktop.settings import Connection, Settings
from desktop.theme import is_dark
from tests.desktop.helpers import WAIT_MS, close_window, wait_idle


def test_the_look_and_the_window_state_survive_a_restart(
    qtbot,  # noqa: ANN001
    open_window: Callable[[Settings], MainWindow],
    remote_settings: Settings,
    make_settings: Callable[[], Settings],
    live_server,  # noqa: ANN001
    admin_key: str,
) -> None:
    ApiClient(live_server.url, admin_key).chat("Remember me", chat_id="remembered")
    window = open_window(remote_settings)
    view = window.sidebar.list
    qtbot.mouseClick(
        view.viewport(),
        Qt.MouseButton.LeftButton,
        pos=view.visualRect(view.model().index(0, 0)).center(),
    )
    wait_idle(qtbot, window)
    dark = next(a for a in window.menu.theme_group.actions() if a.data() == "dark")
    dark.trigger()
    assert is_dark(QGuiApplication.palette())
    window.menu.bigger.trigger()
    window.resize(760, 520)  # within the offscreen screen (800 x 600)
    window.splitter.setSizes([250, 470])
    close_window(window)

    restarted = make_settings()
    assert restarted.theme == "dark" and restarted.font_size > 0
    assert restarted.last_chat_id == "remembered"
    again = open_window(restarted)
    qtbot.waitUntil(lambda: again.session.messages.rowCount() > 0, timeout=WAIT_MS)
    assert again.session.current_chat_id == "remembered"
    assert again.sidebar.list.currentIndex().row() == 0
    assert (again.width(), again.height()) == (760, 520)
    assert again.splitter.sizes()[0] == 250


def test_the_settings_dialog_changes_the_theme_at_once(
    qtbot,
    window: MainWindow,
    make_settings: Callable[[], Settings],  # noqa: ANN001
) -> None:
    dialog = window.open_settings()
    dialog.theme_combo.setCurrentIndex(dialog.theme_combo.findData("dark"))
    assert is_dark(QGuiApplication.palette())
    dialog.theme_combo.setCurrentIndex(dialog.theme_combo.findData("light"))
    assert not is_dark(QGuiApplication.palette())
    dialog.font_spin.setValue(14)
    assert QGuiApplication.font().pointSize() == 14
    assert make_settings().theme == "light" and make_settings().font_size == 14
    assert "Remote:" in dialog.connection_label.text()


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_settings_file_is_private_once_it_holds_a_key(
    settings: Settings, settings_file: Path
) -> None:
    settings.set_connection(Connection("remote", "http://chat.test", "ck_" + "s" * 40))
    assert "ck_" + "s" * 40 in settings_file.read_text()  # no keyring in tests
    assert _mode(settings_file) == 0o600
    settings.font_size = 15
    settings.sync()  # Qt writes a new file: it keeps the mode
    assert _mode(settings_file) == 0o600


def test_a_key_file_an_older_version_left_readable_is_made_private(
    make_settings: Callable[[], Settings], settings_file: Path
) -> None:
    make_settings().set_connection(Connection("local"))
    settings_file.chmod(0o644)
    make_settings()
    assert _mode(settings_file) == 0o600
