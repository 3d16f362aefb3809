"""A new API key, shown this once: read-only, with Copy, and a plain warning."""

from __future__ import annotations

from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)


class KeyOnceDialog(QDialog):
    """The clear key of a user or key just created; the server never shows it again."""

    def __init__(self, owner: str, api_key: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New API key")
        self.setMinimumWidth(560)
        intro = QLabel(f"The API key for <b>{owner}</b>:")
        self.key_edit = QLineEdit(api_key)
        self.key_edit.setObjectName("newKey")
        self.key_edit.setReadOnly(True)
        self.key_edit.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.copy_button = QPushButton("Copy")
        self.copy_button.clicked.connect(self.copy)
        self.warning = QLabel(
            "Copy it now and keep it somewhere safe: <b>you won't see it again</b>. "
            "The server keeps only a hash of it."
        )
        self.warning.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.key_edit, 1)
        row.addWidget(self.copy_button)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(row)
        layout.addWidget(self.warning)
        layout.addWidget(buttons)

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.key_edit.text())
        self.copy_button.setText("Copied ✓")
