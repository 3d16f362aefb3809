"""Small forms of the Admin view: a new user, and a user's limits and quotas."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from desktop.api_types import User

LIMIT_FIELDS = {
    "rate_limit_per_hour": "Requests per hour:",
    "token_quota_per_day": "Tokens per day:",
    "token_quota_per_month": "Tokens per month:",
}
MAX_LIMIT = 2_000_000_000


def limit_spin(name: str, value: int | None) -> QSpinBox:
    """A number, or "Default" (the server's setting) at the bottom of the range: sent as null."""
    spin = QSpinBox()
    spin.setObjectName(name)
    spin.setRange(0, MAX_LIMIT)
    spin.setSpecialValueText("Default")
    spin.setGroupSeparatorShown(True)
    spin.setValue(value or 0)
    return spin


def spin_value(spin: QSpinBox) -> int | None:
    return spin.value() or None


def _buttons(dialog: QDialog, ok: str) -> QDialogButtonBox:
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
    buttons.addButton(ok, QDialogButtonBox.ButtonRole.AcceptRole)
    buttons.accepted.connect(dialog.accept)
    buttons.rejected.connect(dialog.reject)
    return buttons


class NewUserDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("New user")
        self.username_edit = QLineEdit()
        self.username_edit.setObjectName("newUsername")
        self.username_edit.setPlaceholderText("letters, digits, . _ -")
        self.admin_check = QCheckBox("Administrator")
        self.rate_spin = limit_spin("newUserRate", None)
        form = QFormLayout(self)
        form.addRow("Username:", self.username_edit)
        form.addRow("", self.admin_check)
        form.addRow("Requests per hour:", self.rate_spin)
        form.addRow(_buttons(self, "Create"))

    def request(self) -> tuple[str, dict[str, Any]]:
        """The username, and the other fields of `POST /users` that are set."""
        fields: dict[str, Any] = {"is_admin": self.admin_check.isChecked()}
        if spin_value(self.rate_spin) is not None:
            fields["rate_limit_per_hour"] = spin_value(self.rate_spin)
        return self.username_edit.text().strip(), fields


class LimitsDialog(QDialog):
    """Rate limit and token quotas of one user; "Default" follows the server's settings."""

    def __init__(self, user: User, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Limits of {user.username}")
        self.user = user
        self.spins = {name: limit_spin(name, getattr(user, name)) for name in LIMIT_FIELDS}
        form = QFormLayout(self)
        for name, label in LIMIT_FIELDS.items():
            form.addRow(label, self.spins[name])
        note = QLabel("“Default” uses the server's setting (unlimited when it has none).")
        note.setWordWrap(True)
        form.addRow(note)
        form.addRow(_buttons(self, "Save"))

    def changes(self) -> dict[str, int | None]:
        """The limits changed, as `PATCH /users/<name>` takes them: null for the default."""
        values = {name: spin_value(spin) for name, spin in self.spins.items()}
        return {name: v for name, v in values.items() if v != getattr(self.user, name)}
