"""The Admin view's Users tab: list, create (key shown once), deactivate, limits and quotas."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop.api_types import NewUser, User
from desktop.views.key_once import KeyOnceDialog
from desktop.views.tables import Cell, fill, plural, read_only_table
from desktop.views.user_forms import LimitsDialog, NewUserDialog

COLUMNS = ("Username", "Role", "Status", "Requests/hour", "Tokens/day", "Tokens/month", "Created")


def short_time(iso: str | None) -> str:
    """`2026-12-02T09:14:03.5+00:00` as `2026-12-02 09:14` (UTC, as the server keeps it)."""
    return (iso or "")[:16].replace("T", " ")


def _limit(value: int | None) -> Cell:
    return "default" if value is None else value


def user_cells(user: User) -> list[Cell]:
    return [
        user.username,
        "admin" if user.is_admin else "user",
        "active" if user.is_active else "deactivated",
        _limit(user.rate_limit_per_hour),
        _limit(user.token_quota_per_day),
        _limit(user.token_quota_per_month),
        short_time(user.created_at),
    ]


class UsersTab(QWidget):
    """Emits intents; shows the list, the new user's key once, and failures."""

    refresh_requested = Signal()
    create_requested = Signal(str, dict)  # username, other fields
    update_requested = Signal(str, dict)  # username, changed fields
    keys_requested = Signal(str)  # username: show that user's keys

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.users: list[User] = []
        self.key_dialog: KeyOnceDialog | None = None
        self._setup_ui()
        self._connect_signals()
        self._on_selection()

    def _setup_ui(self) -> None:
        self.table = read_only_table(COLUMNS, "usersTable", numeric=COLUMNS[3:6])
        self.new_button = QPushButton("New User…")
        self.active_button = QPushButton("Deactivate")
        self.active_button.setObjectName("toggleActive")
        self.limits_button = QPushButton("Limits and Quotas…")
        self.keys_button = QPushButton("Keys")
        self.refresh_button = QPushButton("Refresh")
        self.state_label = QLabel()
        self.state_label.setObjectName("usersState")
        self.state_label.setWordWrap(True)
        buttons = QHBoxLayout()
        for button in (self.new_button, self.active_button, self.limits_button, self.keys_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.refresh_button)
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.state_label)
        layout.addWidget(self.table, 1)

    def _connect_signals(self) -> None:
        self.table.itemSelectionChanged.connect(self._on_selection)
        self.new_button.clicked.connect(self.ask_new_user)
        self.active_button.clicked.connect(self._toggle_active)
        self.limits_button.clicked.connect(self.ask_limits)
        self.keys_button.clicked.connect(self._ask_keys)
        self.refresh_button.clicked.connect(self.refresh)

    def refresh(self) -> None:
        self.state_label.setText("Loading…")
        self.refresh_requested.emit()

    def selected(self) -> User | None:
        row = self.table.currentRow()
        return (
            self.users[row] if 0 <= row < len(self.users) and self.table.selectedItems() else None
        )

    def select(self, username: str) -> None:
        names = [user.username for user in self.users]
        if username in names:
            self.table.selectRow(names.index(username))

    # Intents
    def ask_new_user(self) -> NewUserDialog:
        dialog = NewUserDialog(self)
        dialog.accepted.connect(lambda: self._create(*dialog.request()))
        dialog.open()
        return dialog

    def _create(self, username: str, fields: dict[str, Any]) -> None:
        self.state_label.setText(f"Creating {username}…")
        self.create_requested.emit(username, fields)

    def _toggle_active(self) -> None:
        user = self.selected()
        if user is not None:
            self.state_label.setText("Saving…")
            self.update_requested.emit(user.username, {"is_active": not user.is_active})

    def ask_limits(self) -> LimitsDialog | None:
        user = self.selected()
        if user is None:
            return None
        dialog = LimitsDialog(user, self)
        dialog.accepted.connect(lambda: self._save_limits(user.username, dialog.changes()))
        dialog.open()
        return dialog

    def _save_limits(self, username: str, changes: dict[str, int | None]) -> None:
        if not changes:
            return
        self.state_label.setText("Saving…")
        self.update_requested.emit(username, changes)

    def _ask_keys(self) -> None:
        user = self.selected()
        if user is not None:
            self.keys_requested.emit(user.username)

    # Answers
    def show_users(self, users: list[User]) -> None:
        self.users = users
        self.state_label.setText(plural(len(users), "user"))
        fill(self.table, [user_cells(user) for user in users])
        self._on_selection()

    def show_new_user(self, new_user: NewUser) -> None:
        self.key_dialog = KeyOnceDialog(new_user.user.username, new_user.api_key, self)
        self.key_dialog.open()

    def show_error(self, message: str) -> None:
        self.state_label.setText(message)

    def _on_selection(self) -> None:
        user = self.selected()
        self.active_button.setEnabled(user is not None)
        self.limits_button.setEnabled(user is not None)
        self.keys_button.setEnabled(user is not None)
        self.active_button.setText("Reactivate" if user and not user.is_active else "Deactivate")
