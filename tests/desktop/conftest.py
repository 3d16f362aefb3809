"""Desktop fixtures: offscreen Qt, settings under tmp_path, and the main window on a live server."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # before anything creates a QApplication

from collections.abc import Callable, Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

import keyring  # noqa: E402
import pytest  # noqa: E402
from keyring.backend import KeyringBackend  # noqa: E402
from PySide6.QtCore import QSettings  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from desktop.main_window import MainWindow  # noqa: E402
from desktop.settings import Connection, Settings  # noqa: E402
from desktop.theme import ThemeManager  # noqa: E402
from tests.desktop.helpers import close_window, wait_idle  # noqa: E402


@pytest.fixture
def settings_file(tmp_path: Path) -> Path:
    return tmp_path / "settings" / "chatapp-desktop.ini"


@pytest.fixture
def make_settings(settings_file: Path, tmp_path: Path) -> Callable[[], Settings]:
    """Settings over one ini file under tmp_path, with the keyring off: a fresh wrapper each
    call, as a restarted app would have."""

    def make() -> Settings:
        qsettings = QSettings(str(settings_file), QSettings.Format.IniFormat)
        return Settings(qsettings, use_keyring=False, data_path=tmp_path / "data")

    return make


@pytest.fixture
def settings(make_settings: Callable[[], Settings]) -> Settings:
    return make_settings()


@pytest.fixture
def themes(qapp: QApplication) -> Iterator[ThemeManager]:
    manager = ThemeManager(qapp)
    yield manager
    manager.apply("system")  # the QApplication outlives the test


@pytest.fixture
def remote_settings(settings: Settings, live_server, admin_key: str) -> Settings:  # noqa: ANN001
    settings.set_connection(Connection("remote", live_server.url, admin_key))
    return settings


@pytest.fixture
def open_window(qtbot, themes: ThemeManager) -> Iterator[Callable[[Settings], MainWindow]]:  # noqa: ANN001
    """Open the main window on these settings' connection, once the first loads are done;
    close it (stopping its workers) after the test."""
    windows: list[MainWindow] = []

    def open_(settings: Settings) -> MainWindow:
        window = MainWindow(settings, themes)
        windows.append(window)
        window.show()
        connection = settings.connection()
        assert connection is not None
        window.connection.connect_to(connection)
        wait_idle(qtbot, window)
        return window

    yield open_
    for window in windows:
        close_window(window)


@pytest.fixture
def window(open_window: Callable[[Settings], MainWindow], remote_settings: Settings) -> MainWindow:
    return open_window(remote_settings)


class MemoryKeyring(KeyringBackend):
    """A real keyring backend that keeps secrets in memory: never the user's keyring."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.secrets.pop((service, username), None)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)
