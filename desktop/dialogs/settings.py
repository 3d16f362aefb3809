"""The Settings dialog: theme, font size, and the connection, which opens the connection dialog."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop.settings import THEMES, Settings, Theme


class SettingsDialog(QDialog):
    """Changes apply at once; the main window listens to the signals."""

    theme_changed = Signal(str)
    font_size_changed = Signal(int)
    change_connection_requested = Signal()

    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._settings = settings
        self._setup_ui()
        self._connect_signals()

    def _setup_ui(self) -> None:
        self.setWindowTitle("Settings")
        self.setMinimumWidth(480)
        self.theme_combo = QComboBox()
        self.theme_combo.setObjectName("themeCombo")
        for theme in THEMES:
            self.theme_combo.addItem(theme.capitalize(), theme)
        self.theme_combo.setCurrentIndex(THEMES.index(self._settings.theme))
        self.font_spin = QSpinBox()
        self.font_spin.setObjectName("fontSizeSpin")
        self.font_spin.setRange(0, 32)
        self.font_spin.setSpecialValueText("Default")
        self.font_spin.setSuffix(" pt")
        self.font_spin.setValue(self._settings.font_size)
        self.connection_label = QLabel()
        self.connection_label.setObjectName("connectionSummary")
        self.connection_label.setWordWrap(True)
        self.change_button = QPushButton("Change…")
        self.change_button.setObjectName("changeConnectionButton")
        connection_row = QHBoxLayout()
        connection_row.addWidget(self.connection_label, 1)
        connection_row.addWidget(self.change_button)
        form = QFormLayout()
        form.addRow("Theme:", self.theme_combo)
        form.addRow("Font size:", self.font_spin)
        form.addRow("Connection:", connection_row)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self.refresh()

    def _connect_signals(self) -> None:
        self.theme_combo.currentIndexChanged.connect(self._on_theme)
        self.font_spin.valueChanged.connect(self._on_font_size)
        self.change_button.clicked.connect(self.change_connection_requested)
        self.buttons.rejected.connect(self.reject)

    def refresh(self) -> None:
        connection = self._settings.connection()
        if connection is None:
            text = "Not set up"
        elif connection.mode == "local":
            text = "Local: the embedded server on this computer"
        else:
            text = f"Remote: {connection.url}"
        where = "the system keyring" if self._settings.key_in_keyring else "the settings file"
        self.connection_label.setText(f"{text}\nKey stored in {where}.")

    def _on_theme(self) -> None:
        theme: Theme = self.theme_combo.currentData()
        self._settings.theme = theme
        self.theme_changed.emit(theme)

    def _on_font_size(self, size: int) -> None:
        self._settings.font_size = size
        self.font_size_changed.emit(size)
