"""The Admin view: users, keys, usage per user and the audit log, as tabs of one window."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QTabWidget, QVBoxLayout, QWidget

from desktop.controllers.admin import AdminController
from desktop.views.admin_audit import AuditTab
from desktop.views.admin_keys import KeysTab
from desktop.views.admin_usage import UsageByUserTab
from desktop.views.admin_users import UsersTab


class AdminView(QDialog):
    """For admins only (the menu shows it when `/me` says is_admin)."""

    def __init__(self, controller: AdminController, me: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Admin")
        self.resize(980, 620)
        self.users = UsersTab()
        self.keys = KeysTab(me)
        self.usage = UsageByUserTab()
        self.audit = AuditTab()
        self.tabs = QTabWidget()
        self.tabs.setObjectName("adminTabs")
        for tab, title in (
            (self.users, "Users"),
            (self.keys, "Keys"),
            (self.usage, "Usage by User"),
            (self.audit, "Audit Log"),
        ):
            self.tabs.addTab(tab, title)
        QVBoxLayout(self).addWidget(self.tabs)
        self._bind(controller)

    def _bind(self, controller: AdminController) -> None:
        """Intents to the controller, and its answers back to each tab."""
        self.users.refresh_requested.connect(controller.load_users)
        self.users.create_requested.connect(controller.create_user)
        self.users.update_requested.connect(controller.update_user)
        self.keys.refresh_requested.connect(controller.load_keys)
        self.keys.create_requested.connect(controller.create_key)
        self.keys.revoke_requested.connect(controller.revoke_key)
        self.usage.load_requested.connect(controller.load_usage)
        self.audit.load_requested.connect(controller.load_audit)
        controller.users_loaded.connect(self.users.show_users)
        controller.users_loaded.connect(
            lambda users: self.keys.set_users([u.username for u in users])
        )
        self.users.keys_requested.connect(self._show_keys_of)
        controller.user_created.connect(self.users.show_new_user)
        controller.keys_loaded.connect(self.keys.show_keys)
        controller.key_created.connect(self.keys.show_new_key)
        controller.usage_loaded.connect(self.usage.show_usage)
        controller.audit_loaded.connect(self.audit.show_page)
        controller.failed.connect(self._show_error)

    def reload(self) -> None:
        """Load every tab afresh (on opening: an admin wants what is true now)."""
        self.users.refresh()
        self.keys.refresh()
        self.usage.refresh()
        self.audit.refresh()

    def _show_keys_of(self, username: str) -> None:
        self.tabs.setCurrentWidget(self.keys)
        self.keys.show_user(username)

    def _show_error(self, part: str, message: str) -> None:
        tabs = {"users": self.users, "keys": self.keys, "usage": self.usage, "audit": self.audit}
        tabs[part].show_error(message)
