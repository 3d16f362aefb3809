"""A non-modal error banner above the conversation, with Retry and, for a bad key, Settings."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget

from desktop.errors import ErrorInfo
from desktop.theme import is_dark

_LIGHT_COLORS = ("#fdecea", "#e6a29b", "#611a15")  # background, border, text
_DARK_COLORS = ("#3d2022", "#8a3b37", "#ffd9d5")


class ErrorBanner(QFrame):
    """Shows one ErrorInfo at a time; a 429 counts its wait down to zero."""

    retry_requested = Signal()
    settings_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._info: ErrorInfo | None = None
        self._seconds_left = 0
        self._setup_ui()
        self._connect_signals()
        self.hide()

    def _setup_ui(self) -> None:
        self.setObjectName("errorBanner")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.follow_theme()
        self.label = QLabel()
        self.label.setObjectName("errorText")
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.retry_button = QPushButton("Retry")
        self.retry_button.setObjectName("retryButton")
        self.settings_button = QPushButton("Open Settings…")
        self.settings_button.setObjectName("openSettingsButton")
        self.close_button = QToolButton()
        self.close_button.setText("✕")
        self.close_button.setToolTip("Dismiss")
        self.close_button.setAutoRaise(True)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 6, 6, 6)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.settings_button)
        layout.addWidget(self.retry_button)
        layout.addWidget(self.close_button)
        self._countdown = QTimer(self)
        self._countdown.setInterval(1000)

    def follow_theme(self) -> None:
        """Red, readable on the light and on the dark theme. (A widget with a style sheet
        hears of no palette change: the window calls this when the theme changes.)"""
        background, border, text = _DARK_COLORS if is_dark() else _LIGHT_COLORS
        sheet = (
            f"#errorBanner {{ background: {background}; border: 1px solid {border};"
            f" border-radius: 6px; }} #errorBanner QLabel {{ color: {text}; }}"
        )
        self.setStyleSheet(sheet)

    def _connect_signals(self) -> None:
        self.retry_button.clicked.connect(self._on_retry)
        self.settings_button.clicked.connect(self.settings_requested)
        self.close_button.clicked.connect(self.dismiss)
        self._countdown.timeout.connect(self._tick)

    @property
    def info(self) -> ErrorInfo | None:
        return self._info

    def show_error(self, info: ErrorInfo) -> None:
        """Show `info`; while a failure for the same reason is shown, it stays: the first one
        names what the user did (e.g. Sending), the reloads that follow only echo it."""
        shown = self._info
        echo = shown is not None and (shown.kind, shown.reason) == (info.kind, info.reason)
        if echo and info.retry_after is None:  # a new wait is news
            return
        self._info = info
        self.settings_button.setVisible(info.offer_settings)
        self._seconds_left = math.ceil(info.retry_after or 0)
        if self._seconds_left > 0:
            self._countdown.start()
        else:
            self._countdown.stop()
        self._refresh()
        self.show()

    def dismiss(self) -> None:
        self._countdown.stop()
        self._info = None
        self.hide()

    def _refresh(self) -> None:
        if self._info is None:
            return
        text = self._info.message
        if self._seconds_left > 0:
            text += f" Try again in {self._seconds_left} s."
        elif self._info.retry_after is not None:
            text += " You can try again now."
        self.label.setText(text[:1].upper() + text[1:])

    def _tick(self) -> None:
        self._seconds_left -= 1
        if self._seconds_left <= 0:
            self._countdown.stop()
        self._refresh()

    def _on_retry(self) -> None:
        self.dismiss()
        self.retry_requested.emit()
