"""Desktop notifications: a reply that finishes while the window is in the background."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QApplication, QStyle, QSystemTrayIcon, QWidget

SHOWN_MS = 5000
PREVIEW_CHARS = 120
_INFO_ICON = QStyle.StandardPixmap.SP_MessageBoxInformation


class Notifier(QObject):
    """Shows a system notification through a tray icon where the desktop has a tray;
    elsewhere it asks the window manager to flag the window (the taskbar entry blinks)."""

    notified = Signal(str, str)  # title, text: what was shown

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self._window = window
        self._tray: QSystemTrayIcon | None = None

    def notify(self, title: str, text: str) -> None:
        text = text if len(text) <= PREVIEW_CHARS else text[: PREVIEW_CHARS - 1] + "…"
        tray = self._tray_icon()
        if tray is not None:
            tray.showMessage(title, text, tray.icon(), SHOWN_MS)
        else:
            QApplication.alert(self._window)
        self.notified.emit(title, text)

    def _tray_icon(self) -> QSystemTrayIcon | None:
        """The tray icon, made on first use; None where there is no tray."""
        if self._tray is None and QSystemTrayIcon.isSystemTrayAvailable():
            icon = QApplication.windowIcon()
            if icon.isNull():  # a tray icon needs one; the app has none of its own yet
                icon = QApplication.style().standardIcon(_INFO_ICON)
            self._tray = QSystemTrayIcon(icon, self)
            self._tray.setToolTip(QApplication.applicationDisplayName())
            self._tray.messageClicked.connect(self._bring_window_back)
            self._tray.show()
        return self._tray if self._tray is not None and self._tray.supportsMessages() else None

    def _bring_window_back(self) -> None:
        self._window.showNormal()
        self._window.raise_()
        self._window.activateWindow()
