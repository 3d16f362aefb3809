"""The Admin view's Usage tab: each user's totals over the last 7, 30 or 90 days."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from desktop.api_types import UserUsage
from desktop.views.tables import Cell, fill, plural, read_only_table
from desktop.views.usage import range_picker

COLUMNS = ("User", "Requests", "Errors", "Prompt tokens", "Completion tokens", "Cost")


class UsageByUserTab(QWidget):
    load_requested = Signal(int)  # days

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.range_combo = range_picker("adminUsageRange")
        self.refresh_button = QPushButton("Refresh")
        self.state_label = QLabel()
        self.state_label.setObjectName("adminUsageState")
        self.state_label.setWordWrap(True)
        self.table = read_only_table(COLUMNS, "adminUsageTable", numeric=COLUMNS[1:])
        top = QHBoxLayout()
        top.addWidget(QLabel("Range:"))
        top.addWidget(self.range_combo)
        top.addWidget(self.state_label, 1)
        top.addWidget(self.refresh_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        self.range_combo.currentIndexChanged.connect(lambda _: self.refresh())
        self.refresh_button.clicked.connect(self.refresh)

    def refresh(self) -> None:
        self.state_label.setText("Loading…")
        self.load_requested.emit(int(self.range_combo.currentData()))

    def show_usage(self, rows: list[UserUsage]) -> None:
        ranked = sorted(rows, key=lambda r: -(r.prompt_tokens + r.completion_tokens))
        self.state_label.setText(f"{plural(len(rows), 'user')}, busiest first (UTC days)")
        fill(self.table, [_cells(row) for row in ranked])

    def show_error(self, message: str) -> None:
        self.state_label.setText(message)


def _cells(row: UserUsage) -> list[Cell]:
    return [
        row.username,
        row.requests,
        row.errors,
        row.prompt_tokens,
        row.completion_tokens,
        float(row.cost),
    ]
