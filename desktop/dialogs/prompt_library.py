"""The prompt library: a list and an editor to create, save, delete and activate prompts."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QModelIndex, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop.api_types import Prompt
from desktop.models import PromptModel

Fields = dict[str, str]
_NATIVE = QKeySequence.SequenceFormat.NativeText


class PromptLibraryDialog(QDialog):
    """Emits intents; the controller answers with `saved(prompt_id)` or `failed(message)`."""

    save_requested = Signal(str, dict)  # prompt id ("" for a new prompt), fields
    delete_requested = Signal(str)
    activate_requested = Signal(str)

    def __init__(self, model: PromptModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._model = model
        self._editing: Prompt | None = None  # None while drafting a new prompt
        self._after_save: Callable[[], None] | None = None
        self._loading = False
        self._setup_ui()
        self._connect_signals()
        self._load(None)

    def _setup_ui(self) -> None:
        self.setWindowTitle("Prompt Library")
        self.resize(860, 560)
        self.list = QListView()
        self.list.setObjectName("promptList")
        self.list.setModel(self._model)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setSpacing(3)  # room to breathe, without a style sheet
        self.new_button = QPushButton("New")
        self.delete_button = QPushButton("Delete…")
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.list, 1)
        row = QHBoxLayout()
        row.addWidget(self.new_button)
        row.addWidget(self.delete_button)
        left_layout.addLayout(row)
        self.name_edit = QLineEdit()
        self.name_edit.setObjectName("promptName")
        self.description_edit = QLineEdit()
        self.description_edit.setObjectName("promptDescription")
        self.content_edit = QPlainTextEdit()
        self.content_edit.setObjectName("promptContent")
        self.content_edit.setPlaceholderText("You are a helpful assistant…")
        self.state_label = QLabel()
        self.state_label.setObjectName("promptState")
        self.state_label.setWordWrap(True)
        self.activate_button = QPushButton("Make Active")
        self.revert_button = QPushButton("Revert")
        self.save_button = QPushButton("Save")
        self.save_button.setDefault(True)
        save_keys = QKeySequence(QKeySequence.StandardKey.Save)
        self.save_button.setToolTip(f"Save ({save_keys.toString(_NATIVE)})")
        # Through the button, so Ctrl+S does nothing while it is disabled (clean, or saving).
        self.save_shortcut = QShortcut(save_keys, self, self.save_button.click)
        right = QWidget()
        form = QFormLayout(right)
        form.setContentsMargins(0, 0, 0, 0)
        form.addRow("Name:", self.name_edit)
        form.addRow("Description:", self.description_edit)
        form.addRow("Content:", self.content_edit)
        buttons = QHBoxLayout()
        buttons.addWidget(self.state_label, 1)
        for button in (self.activate_button, self.revert_button, self.save_button):
            buttons.addWidget(button)
        form.addRow(buttons)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([240, 600])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)

    def _connect_signals(self) -> None:
        self.list.selectionModel().currentChanged.connect(self._on_current_changed)
        self.new_button.clicked.connect(lambda: self._guarded(self.start_new))
        self.delete_button.clicked.connect(self._confirm_delete)
        self.save_button.clicked.connect(self.save)
        self.revert_button.clicked.connect(lambda: self._load(self._editing))
        self.activate_button.clicked.connect(self._on_activate)
        for edit in (self.name_edit, self.description_edit):
            edit.textChanged.connect(self._update_state)
        self.content_edit.textChanged.connect(self._update_state)
        self._model.modelReset.connect(self._on_model_reset)

    # What is being edited
    def fields(self) -> Fields:
        return {
            "name": self.name_edit.text().strip(),
            "description": self.description_edit.text().strip(),
            "content": self.content_edit.toPlainText(),
        }

    def is_dirty(self) -> bool:
        saved = self._editing or Prompt("", "", "")
        return self.fields() != {
            "name": saved.name,
            "description": saved.description,
            "content": saved.content,
        }

    def editing_id(self) -> str | None:
        return self._editing.id if self._editing else None

    def start_new(self) -> None:
        self._select_row(-1)
        self._load(None)
        self.name_edit.setFocus()

    def _load(self, prompt: Prompt | None) -> None:
        self._loading = True
        self._editing = prompt
        self.name_edit.setText(prompt.name if prompt else "")
        self.description_edit.setText(prompt.description if prompt else "")
        self.content_edit.setPlainText(prompt.content if prompt else "")
        self._loading = False
        self._update_state()

    def _update_state(self) -> None:
        if self._loading:
            return
        dirty, prompt = self.is_dirty(), self._editing
        if prompt is None:
            text = "New prompt: not saved yet."
        elif dirty:
            text = "Unsaved changes."
        else:
            text = "Active: new chats start with this prompt." if prompt.is_active else ""
        self.state_label.setText(text)
        self.save_button.setEnabled(dirty and bool(self.fields()["name"]))
        self.revert_button.setEnabled(dirty and prompt is not None)
        self.delete_button.setEnabled(prompt is not None)
        self.activate_button.setEnabled(prompt is not None and not prompt.is_active)

    # Intents
    def save(self) -> None:
        fields = self.fields()
        if not fields["name"] or not fields["content"].strip():
            self.state_label.setText("A prompt needs a name and some content.")
            return
        self.save_button.setEnabled(False)
        self.state_label.setText("Saving…")
        self.save_requested.emit(self.editing_id() or "", fields)

    def _on_activate(self) -> None:
        if self._editing is not None:
            self.activate_requested.emit(self._editing.id)

    def _confirm_delete(self) -> None:
        if self._editing is None:
            return
        answer = QMessageBox.question(
            self,
            "Delete prompt",
            f"Delete the prompt “{self._editing.name}”? Existing chats keep their copy.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.delete_requested.emit(self._editing.id)

    # Answers from the controller
    def saved(self, prompt_id: str) -> None:
        """The server accepted the save: show that prompt, clean, then do what was waiting."""
        row = self._model.row_of(prompt_id)
        self._select_row(row)
        self._load(self._model.prompt(row) if row >= 0 else None)
        action, self._after_save = self._after_save, None
        if action is not None:
            action()

    def failed(self, message: str) -> None:
        self._after_save = None
        self._update_state()
        self.state_label.setText(message)

    # The unsaved-changes guard
    def _guarded(self, action: Callable[[], None]) -> None:
        """Run `action` now, or after the user has saved or discarded the unsaved edits."""
        if not self.is_dirty():
            action()
            return
        answer = QMessageBox.warning(
            self,
            "Unsaved changes",
            "This prompt has unsaved changes. Save them?",
            QMessageBox.StandardButton.Save
            | QMessageBox.StandardButton.Discard
            | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Save,
        )
        if answer == QMessageBox.StandardButton.Discard:
            self._load(self._editing)
            action()
        elif answer == QMessageBox.StandardButton.Save:
            self._after_save = action
            self.save()

    def _on_current_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        if not current.isValid():
            return
        target = self._model.prompt(current.row())
        if self._editing is not None and target.id == self._editing.id:
            return
        # Keep showing what is being edited until the guard lets the switch happen.
        self._select_row(self._model.row_of(self.editing_id() or ""))
        self._guarded(lambda: self._open(target.id))

    def _open(self, prompt_id: str) -> None:
        row = self._model.row_of(prompt_id)
        if row >= 0:
            self._select_row(row)
            self._load(self._model.prompt(row))

    def _select_row(self, row: int) -> None:
        selection = self.list.selectionModel()
        blocked = selection.blockSignals(True)
        if row >= 0:
            self.list.setCurrentIndex(self._model.index(row))
        else:
            selection.clear()
            self.list.setCurrentIndex(QModelIndex())
        selection.blockSignals(blocked)
        self.list.viewport().update()

    def _on_model_reset(self) -> None:
        """After a reload, keep the prompt being edited; refresh it only if it has no edits.
        The selection is restored first: a button disabled while it has the focus hands the
        focus to the list, which would otherwise pick its first row by itself."""
        row = self._model.row_of(self.editing_id() or "")
        if self._editing is not None and row < 0:  # deleted: show the first one left
            row = 0 if self._model.rowCount() else -1
            self._select_row(row)
            self._load(self._model.prompt(row) if row >= 0 else None)
            return
        self._select_row(row)
        if row >= 0 and not self.is_dirty():
            self._load(self._model.prompt(row))
        elif row >= 0:
            self._editing = self._model.prompt(row)
            self._update_state()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's API)
        if not self.is_dirty():
            event.accept()
            return
        event.ignore()
        self._guarded(self.hide)

    def reject(self) -> None:
        self.close()  # Esc goes through the same guard as the close button
