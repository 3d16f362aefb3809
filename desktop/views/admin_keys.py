"""The Admin view's Keys tab: any user's API keys, to revoke; a new key for oneself."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
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
from desktop.views.tables import fill, plural, read_only_table

COLUMNS = ("Prefix", "Name", "Created", "Last used", "Revoked")


class KeysTab(QWidget):
    """`me` is the signed-in admin: the API makes new keys for their owner only."""

    refresh_requested = Signal(str)  # username
    create_requested = Signal(str)  # name of a new key of one's own
    revoke_requested = Signal(str, str)  # username, prefix

    def __init__(self, me: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.me = me
        self.keys: list[KeyInfo] = []
        self.key_dialog: KeyOnceDialog | None = None
        self._setup_ui()
        self._connect_signals()
        self.set_users([me])

    def _setup_ui(self) -> None:
        self.user_combo = QComboBox()
        self.user_combo.setObjectName("keysUser")
        self.table = read_only_table(COLUMNS, "keysTable", stretch=COLUMNS.index("Name"))
        self.new_button = QPushButton("New Key…")
        self.new_button.setToolTip("A new key of your own (each user makes their own keys)")
        self.revoke_button = QPushButton("Revoke…")
        self.refresh_button = QPushButton("Refresh")
        self.state_label = QLabel()
        self.state_label.setObjectName("keysState")
        self.state_label.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(QLabel("Keys of:"))
        buttons.addWidget(self.user_combo)
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.revoke_button)
        buttons.addStretch(1)
        buttons.addWidget(self.refresh_button)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.state_label)
        layout.addWidget(self.table, 1)

    def _connect_signals(self) -> None:
        self.table.itemSelectionChanged.connect(self._on_selection)
        self.user_combo.activated.connect(lambda _: self.refresh())
        self.new_button.clicked.connect(self.ask_new_key)
        self.revoke_button.clicked.connect(self.confirm_revoke)
        self.refresh_button.clicked.connect(self.refresh)

    def owner(self) -> str:
        return self.user_combo.currentText()

    def set_users(self, usernames: list[str]) -> None:
        """The users to pick from; the one shown stays, or else it is oneself."""
        shown = self.owner() or self.me
        blocked = self.user_combo.blockSignals(True)
        self.user_combo.clear()
        self.user_combo.addItems(usernames)
        self.user_combo.setCurrentText(shown if shown in usernames else self.me)
        self.user_combo.blockSignals(blocked)

    def show_user(self, username: str) -> None:
        self.user_combo.setCurrentText(username)
        self.refresh()

    def refresh(self) -> None:
        self.state_label.setText("Loading…")
        self.new_button.setEnabled(self.owner() == self.me)
        self.refresh_requested.emit(self.owner())

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
        key, owner = self.selected(), self.owner()
        if key is None or key.revoked_at:
            return
        answer = QMessageBox.question(
            self,
            "Revoke key",
            f"Revoke {owner}'s key “{key.name}” ({key.prefix}…)? Anything using it stops "
            "working at its very next request.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.state_label.setText("Revoking…")
            self.revoke_requested.emit(owner, key.prefix)

    # Answers
    def show_keys(self, keys: list[KeyInfo]) -> None:
        self.keys = keys
        live = sum(1 for key in keys if not key.revoked_at)
        self.state_label.setText(f"{plural(len(keys), 'key')}, {live} in use")
        fill(self.table, [_cells(key) for key in keys])
        self._on_selection()

    def show_new_key(self, new_key: NewKey) -> None:
        self.key_dialog = KeyOnceDialog(f"key “{new_key.key.name}”", new_key.api_key, self)
        self.key_dialog.open()
        self.show_user(self.me)

    def show_error(self, message: str) -> None:
        self.state_label.setText(message)

    def _on_selection(self) -> None:
        key = self.selected()
        self.revoke_button.setEnabled(key is not None and not key.revoked_at)


def _cells(key: KeyInfo) -> list[str]:
    last_used = short_time(key.last_used_at) or "never"
    return [key.prefix, key.name, short_time(key.created_at), last_used, short_time(key.revoked_at)]
