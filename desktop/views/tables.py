"""Read-only tables filled from rows of text, numbers aligned right: shared by the views."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableWidget, QTableWidgetItem

Cell = str | int | float
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
LONG_TEXT = 40  # characters: a longer cell also shows in full in its tooltip


def read_only_table(
    headers: Sequence[str], name: str, stretch: int = 0, numeric: Sequence[str] = ()
) -> QTableWidget:
    """Rows selected whole; column `stretch` takes the room left, the others fit their text.
    The `numeric` columns are aligned right, header and all ("default" in one too)."""
    table = QTableWidget(0, len(headers))
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(list(headers))
    for column in numeric:
        table.horizontalHeaderItem(headers.index(column)).setTextAlignment(_RIGHT)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setAlternatingRowColors(True)
    table.verticalHeader().setVisible(False)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    return table


def fill(table: QTableWidget, rows: Sequence[Sequence[Cell]]) -> None:
    """Replace the table's rows; the selected row stays selected when it still exists."""
    selected = table.currentRow()
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.setItem(r, c, _item(value, _is_right(table, c)))
    if 0 <= selected < len(rows):
        table.selectRow(selected)


def _is_right(table: QTableWidget, column: int) -> bool:
    return table.horizontalHeaderItem(column).textAlignment() == _RIGHT


def _item(value: Cell, right: bool) -> QTableWidgetItem:
    item = QTableWidgetItem(value if isinstance(value, str) else number(value))
    if isinstance(value, str) and len(value) > LONG_TEXT:
        item.setToolTip(value)  # the cell elides it
    if right or not isinstance(value, str):
        item.setTextAlignment(_RIGHT)
    return item


def number(value: int | float) -> str:
    """Thousands separated; a cost with 4 decimals (small models cost fractions of a cent)."""
    return f"{value:,}" if isinstance(value, int) else f"{value:,.4f}"


def plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"
