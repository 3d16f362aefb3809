"""The Admin view's Keys tab: the signed-in admin's own API keys; create one, revoke one."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.api_types import KeyInfo, NewKey
from desktop.views.admin_users import short_time
from desktop.views.key_once import KeyOnceDialog
from desktop.views.tables import fill, read_only_table

COLUMNS = ("Prefix", "Name", "Created", "Last used", "Revoked")
ABOUT = (
    "Your own API keys. The server lists each user's keys to that user only: another user "
    "rotates theirs in this view, and an operator can revoke any key with `chatapp keys revoke`."
)


class KeysTab(QWidget):
    refresh_requested = Signal()
    create_requested = Signal(str)  # name
    revoke_requested = Signal(str)  # prefix

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.keys: list[KeyInfo] = []
        self.key_dialog: KeyOnceDialog | None = None
        self._setup_ui()
        self._connect_signals()
        self._on_selection()

    def _setup_ui(self) -> None:
        self.table = read_only_table(COLUMNS, "keysTable")
        self.new_button = QPushButton("New Key…")
        self.revoke_button = QPushButton("Revoke…")
        self.refresh_button = QPushButton("Refresh")
        self.state_label = QLabel()
        self.state_label.setObjectName("keysState")
        self.state_label.setWordWrap(True)
        about = QLabel(ABOUT)
        about.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.revoke_button)
        buttons.addStretch(1)
        buttons.addWidget(self.refresh_button)
        layout = QVBoxLayout(self)
        layout.addWidget(about)
        layout.addLayout(buttons)
        layout.addWidget(self.state_label)
        layout.addWidget(self.table, 1)

    def _connect_signals(self) -> None:
        self.table.itemSelectionChanged.connect(self._on_selection)
        self.new_button.clicked.connect(self.ask_new_key)
        self.revoke_button.clicked.connect(self.confirm_revoke)
        self.refresh_button.clicked.connect(self.refresh)

    def refresh(self) -> None:
        self.state_label.setText("Loading…")
        self.refresh_requested.emit()

    def selected(self) -> KeyInfo | None:
        row = self.table.currentRow()
        return self.keys[row] if 0 <= row < len(self.keys) and self.table.selectedItems() else None

    def select(self, prefix: str) -> None:
        prefixes = [key.prefix for key in self.keys]
        if prefix in prefixes:
            self.table.selectRow(prefixes.index(prefix))

    # Intents
    def ask_new_key(self) -> None:
        name, ok = QInputDialog.getText(self, "New API key", "A name to tell it apart:")
        if ok and name.strip():
            self.state_label.setText("Creating…")
            self.create_requested.emit(name.strip())

    def confirm_revoke(self) -> None:
        key = self.selected()
        if key is None or key.revoked_at:
            return
        answer = QMessageBox.question(
            self,
            "Revoke key",
            f"Revoke the key “{key.name}” ({key.prefix}…)? Anything using it stops working "
            "at its very next request.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.state_label.setText("Revoking…")
            self.revoke_requested.emit(key.prefix)

    # Answers
    def show_keys(self, keys: list[KeyInfo]) -> None:
        self.keys = keys
        live = sum(1 for key in keys if not key.revoked_at)
        self.state_label.setText(f"{len(keys)} keys, {live} in use")
        fill(self.table, [_cells(key) for key in keys])
        self._on_selection()

    def show_new_key(self, new_key: NewKey) -> None:
        self.key_dialog = KeyOnceDialog(f"key “{new_key.key.name}”", new_key.api_key, self)
        self.key_dialog.open()

    def show_error(self, message: str) -> None:
        self.state_label.setText(message)

    def _on_selection(self) -> None:
        key = self.selected()
        self.revoke_button.setEnabled(key is not None and not key.revoked_at)


def _cells(key: KeyInfo) -> list[str]:
    last_used = short_time(key.last_used_at) or "never"
    return [key.prefix, key.name, short_time(key.created_at), last_used, short_time(key.revoked_at)]
