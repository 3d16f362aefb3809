"""The Admin view's Audit tab: who changed what, newest first, paged and filtered."""

from __future__ import annotations

import json

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.api_types import AuditEntry, AuditPage
from desktop.controllers.admin import AUDIT_PAGE
from desktop.views.admin_users import short_time
from desktop.views.tables import fill, read_only_table

COLUMNS = ("Time", "Actor", "Action", "Target", "Details", "Request ID")


class AuditTab(QWidget):
    load_requested = Signal(int, str, str)  # offset, action, actor

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.offset = 0
        self.total = 0
        self._setup_ui()
        self._connect_signals()

    def _setup_ui(self) -> None:
        self.action_combo = QComboBox()
        self.action_combo.setObjectName("auditAction")
        self.action_combo.setEditable(True)
        self.action_combo.addItem("")
        self.action_combo.lineEdit().setPlaceholderText("any action")
        self.actor_edit = QLineEdit()
        self.actor_edit.setObjectName("auditActor")
        self.actor_edit.setPlaceholderText("any actor")
        self.apply_button = QPushButton("Filter")
        self.previous_button = QPushButton("◀ Newer")
        self.next_button = QPushButton("Older ▶")
        self.page_label = QLabel()
        self.page_label.setObjectName("auditPage")
        self.table = read_only_table(COLUMNS, "auditTable", stretch=COLUMNS.index("Details"))
        top = QHBoxLayout()
        top.addWidget(QLabel("Action:"))
        top.addWidget(self.action_combo, 1)
        top.addWidget(QLabel("Actor:"))
        top.addWidget(self.actor_edit, 1)
        top.addWidget(self.apply_button)
        pages = QHBoxLayout()
        pages.addWidget(self.page_label, 1)
        pages.addWidget(self.previous_button)
        pages.addWidget(self.next_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addLayout(pages)

    def _connect_signals(self) -> None:
        self.apply_button.clicked.connect(lambda: self.load(0))
        self.actor_edit.returnPressed.connect(lambda: self.load(0))
        self.action_combo.lineEdit().returnPressed.connect(lambda: self.load(0))
        self.previous_button.clicked.connect(lambda: self.load(max(0, self.offset - AUDIT_PAGE)))
        self.next_button.clicked.connect(lambda: self.load(self.offset + AUDIT_PAGE))

    def refresh(self) -> None:
        self.load(self.offset)

    def load(self, offset: int) -> None:
        self.page_label.setText("Loading…")
        action, actor = self.action_combo.currentText().strip(), self.actor_edit.text().strip()
        self.load_requested.emit(offset, action, actor)

    def show_page(self, page: AuditPage, offset: int) -> None:
        self.offset, self.total = offset, page.total
        fill(self.table, [_cells(entry) for entry in page.entries])
        self._remember_actions(page.entries)
        last = offset + len(page.entries)
        shown = f"{offset + 1}–{last} of {page.total}" if page.entries else "No entries"
        self.page_label.setText(shown)
        self.previous_button.setEnabled(offset > 0)
        self.next_button.setEnabled(last < page.total)

    def show_error(self, message: str) -> None:
        self.page_label.setText(message)

    def _remember_actions(self, entries: list[AuditEntry]) -> None:
        """Offer each action seen so far in the filter's list."""
        known = {self.action_combo.itemText(i) for i in range(self.action_combo.count())}
        for action in sorted({entry.action for entry in entries} - known):
            self.action_combo.addItem(action)


def _cells(entry: AuditEntry) -> list[str]:
    details = json.dumps(entry.details, sort_keys=True) if entry.details else ""
    return [
        short_time(entry.time),
        entry.actor,
        entry.action,
        entry.target,
        details,
        entry.request_id,
    ]
