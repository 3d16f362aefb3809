"""The Usage view: the user's tokens per day as a chart, per model as a table, and the quota."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from desktop.api_types import Quotas, TokenQuota, UsageReport, UsageRow
from desktop.usage_data import RANGES, UsageSnapshot, daily_tokens, per_model
from desktop.views.tables import fill, number, read_only_table
from desktop.views.usage_chart import UsageChart

MODEL_COLUMNS = ("Model", "Requests", "Errors", "Prompt tokens", "Completion tokens", "Cost")


def range_picker(name: str) -> QComboBox:
    """Last 7, 30 or 90 days; the item data is the number of days. 30 is chosen."""
    combo = QComboBox()
    combo.setObjectName(name)
    for days in RANGES:
        combo.addItem(f"Last {days} days", days)
    combo.setCurrentIndex(RANGES.index(30))
    return combo


class UsageView(QDialog):
    """Emits `load_requested(days)`; the controller answers with a snapshot or an error."""

    load_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._setup_ui()
        self._connect_signals()

    def _setup_ui(self) -> None:
        self.setWindowTitle("Usage")
        self.resize(860, 640)
        self.range_combo = range_picker("usageRange")
        self.refresh_button = QPushButton("Refresh")
        self.state_label = QLabel()
        self.state_label.setObjectName("usageState")
        self.state_label.setWordWrap(True)
        self.totals_label = QLabel()
        self.totals_label.setObjectName("usageTotals")
        self.quota_label = QLabel()
        self.quota_label.setObjectName("usageQuota")
        self.chart = UsageChart()
        self.table = read_only_table(MODEL_COLUMNS, "usageTable", numeric=MODEL_COLUMNS[1:])
        top = QHBoxLayout()
        top.addWidget(QLabel("Range:"))
        top.addWidget(self.range_combo)
        top.addWidget(self.refresh_button)
        top.addWidget(self.state_label, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.totals_label)
        layout.addWidget(self.quota_label)
        layout.addWidget(self.chart, 2)
        layout.addWidget(self.table, 1)

    def _connect_signals(self) -> None:
        self.range_combo.currentIndexChanged.connect(lambda _: self.reload())
        self.refresh_button.clicked.connect(self.reload)

    def days(self) -> int:
        return int(self.range_combo.currentData())

    def reload(self) -> None:
        self.state_label.setText("Loading…")
        self.refresh_button.setEnabled(False)
        self.load_requested.emit(self.days())

    # Answers from the controller
    def show_snapshot(self, snapshot: UsageSnapshot) -> None:
        report, quotas = snapshot.report, snapshot.me.quotas
        self.refresh_button.setEnabled(True)
        self.state_label.setText(f"{report.start} to {report.end} (UTC)")
        self.totals_label.setText(_totals_text(report))
        self.quota_label.setText(quota_text(quotas))
        self.chart.show_days(daily_tokens(report), quotas.day.limit)
        fill(self.table, [_model_cells(row) for row in per_model(report.days)])

    def show_error(self, message: str) -> None:
        self.refresh_button.setEnabled(True)
        self.state_label.setText(message)

    def follow_theme(self) -> None:
        self.chart.follow_theme()


def _totals_text(report: UsageReport) -> str:
    totals = report.totals
    return (
        f"{totals.requests:,} requests · {totals.prompt_tokens:,} prompt and "
        f"{totals.completion_tokens:,} completion tokens · cost {number(float(totals.cost))}"
    )


def quota_text(quotas: Quotas) -> str:
    day, month = _quota(quotas.day, "today"), _quota(quotas.month, "this month")
    return f"Daily quota: {day} · Monthly quota: {month}"


def _quota(quota: TokenQuota, when: str) -> str:
    if quota.limit is None:
        return "unlimited"
    left = "" if quota.remaining is None else f" ({quota.remaining:,} left {when})"
    return f"{quota.limit:,} tokens{left}"


def _model_cells(row: UsageRow) -> list[str | int | float]:
    return [
        row.model,
        row.requests,
        row.errors,
        row.prompt_tokens,
        row.completion_tokens,
        float(row.cost),
    ]
