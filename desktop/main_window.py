"""The main window: lays out the widgets and wires their intents to the three controllers."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSizePolicy,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from desktop import __version__
from desktop.api_types import Me
from desktop.controllers import (
    AdminController,
    BranchController,
    ChatSessionController,
    ConnectionController,
    PromptLibraryController,
    UsageController,
)
from desktop.dialogs.connection import ConnectionDialog
from desktop.dialogs.prompt_library import PromptLibraryDialog
from desktop.dialogs.settings import SettingsDialog
from desktop.dialogs.shortcuts import ShortcutsDialog
from desktop.errors import ErrorInfo
from desktop.markdown_render import warm_up
from desktop.menus import EXPORT_FORMATS, WindowActions
from desktop.models import ID_ROLE, elide
from desktop.notifier import Notifier
from desktop.settings import Settings, Theme
from desktop.theme import ThemeManager
from desktop.views.admin import AdminView
from desktop.views.usage import UsageView
from desktop.widgets.banner import ErrorBanner
from desktop.widgets.composer import Composer
from desktop.widgets.sidebar import ChatSidebar
from desktop.widgets.status import StatusBar
from desktop.widgets.transcript import Transcript

_COMBO_POLICY = QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
ViewT = TypeVar("ViewT", UsageView, AdminView)
NO_TEMPERATURE = -0.1  # the temperature box's lowest value, shown as "Default"


class MainWindow(QMainWindow):
    def __init__(self, settings: Settings, themes: ThemeManager) -> None:
        super().__init__()
        self.settings = settings
        self.themes = themes
        self.connection = ConnectionController(settings, self)
        self.session = ChatSessionController(settings, self.connection.jobs, self)
        self.library = PromptLibraryController(self.connection.jobs, self)
        self.usage = UsageController(self.connection.jobs, self)
        self.admin = AdminController(self.connection.jobs, self)
        self.branches = BranchController(self.session, self)
        self.prompt_library: PromptLibraryDialog | None = None
        self.usage_view: UsageView | None = None
        self.admin_view: AdminView | None = None
        self._username = ""  # whose key the connection uses, from /me
        self.settings_dialog: SettingsDialog | None = None
        self._setup_ui()
        self.notifier = Notifier(self)
        self.menu = WindowActions(self)
        self._connect_signals()
        self._restore_state()

    def _setup_ui(self) -> None:
        self.setWindowTitle("chatapp")
        self.sidebar = ChatSidebar(self.session.chats)
        self.model_combo = QComboBox()
        self.model_combo.setObjectName("modelCombo")
        self.model_combo.setMinimumContentsLength(4)
        self.model_combo.setSizeAdjustPolicy(_COMBO_POLICY)
        self.model_combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.model_combo.setToolTip("The model for this chat")
        self.prompt_combo = QComboBox()
        self.prompt_combo.setObjectName("promptCombo")
        self.prompt_combo.setModel(self.library.prompts)
        self.prompt_combo.setPlaceholderText("Built-in default")
        self.prompt_combo.setMinimumContentsLength(4)
        self.prompt_combo.setSizeAdjustPolicy(_COMBO_POLICY)
        self.prompt_combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.prompt_combo.setToolTip("The system prompt new chats start with")
        self.temperature_spin = QDoubleSpinBox()
        self.temperature_spin.setObjectName("temperatureSpin")
        self.temperature_spin.setRange(NO_TEMPERATURE, 2.0)
        self.temperature_spin.setSingleStep(0.1)
        self.temperature_spin.setDecimals(1)
        self.temperature_spin.setSpecialValueText("Default")
        self.temperature_spin.setToolTip(
            "Temperature for this chat: lower is more focused, higher more varied"
        )
        self.library_button = QPushButton("Library…")
        self.library_button.setToolTip("Open the prompt library")
        pickers = QHBoxLayout()
        pickers.setContentsMargins(12, 8, 12, 4)
        pickers.addWidget(self.model_combo)
        pickers.addSpacing(8)
        pickers.addWidget(QLabel("Temp.:"))
        pickers.addWidget(self.temperature_spin)
        pickers.addSpacing(8)
        pickers.addWidget(QLabel("Prompt:"))
        pickers.addWidget(self.prompt_combo)
        pickers.addSpacing(6)
        pickers.addWidget(self.library_button)
        self.banner = ErrorBanner()
        self.transcript = Transcript(self.session.messages)
        self.transcript.setObjectName("transcript")
        self.composer = Composer()
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.setSpacing(0)
        right_layout.addLayout(pickers)
        banner_row = QHBoxLayout()
        banner_row.setContentsMargins(12, 4, 12, 4)
        banner_row.addWidget(self.banner)
        right_layout.addLayout(banner_row)
        right_layout.addWidget(self.transcript, 1)
        right_layout.addWidget(self.composer)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(self.sidebar)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([260, 760])
        self.setCentralWidget(self.splitter)
        self.status = StatusBar()
        self.setStatusBar(self.status)
        self.resize(1100, 760)

    def _connect_signals(self) -> None:
        self._connect_controllers()
        session, sidebar = self.session, self.sidebar
        sidebar.new_requested.connect(self.new_chat)
        sidebar.chat_selected.connect(session.open_chat)
        sidebar.rename_requested.connect(session.rename_chat)
        sidebar.delete_requested.connect(session.delete_chat)
        sidebar.search_changed.connect(lambda text: session.load_chats(search=text))
        self.composer.send_requested.connect(session.send)
        self.composer.stop_requested.connect(session.stop)
        self.banner.retry_requested.connect(self.connection.retry)
        self.banner.settings_requested.connect(self.open_settings)
        self.transcript.copied.connect(lambda what: self.status.showMessage("Copied", 2000))
        self.model_combo.activated.connect(lambda: self._pick_model(self.model_combo.currentText()))
        self.temperature_spin.valueChanged.connect(self._pick_temperature)
        self.prompt_combo.activated.connect(self._pick_prompt)
        self.library_button.clicked.connect(self.open_prompt_library)
        self.menu.theme_group.triggered.connect(lambda action: self.set_theme(action.data()))
        self._connect_branches()
        self._on_busy(False)
        self._on_current_chat(None)
        self.composer.focus()

    def _connect_controllers(self) -> None:
        connection, session, library = self.connection, self.session, self.library
        # On (re)connecting, load in this order: models, prompts, chats.
        for load in (session.load_models, library.load, session.load_chats):
            connection.reload_requested.connect(load)
        connection.reload_requested.connect(self._warm_up_highlighter)
        connection.dropped.connect(session.clear)
        connection.dropped.connect(library.clear)
        connection.connection_state.connect(self.status.set_connection)
        connection.error.connect(self.show_error)
        connection.rate_limit_changed.connect(self.status.set_rate_limit)
        session.busy_changed.connect(self._on_busy)
        session.current_chat_changed.connect(self._on_current_chat)
        session.models_loaded.connect(self._on_models)
        session.usage_changed.connect(self.status.set_usage)
        session.exported.connect(lambda path: self.status.showMessage(f"Exported to {path}", 5000))
        session.turn_started.connect(self.composer.drop_draft)
        session.send_failed.connect(self.composer.restore_draft)
        session.options_changed.connect(self._on_chat_options)
        session.reply_finished.connect(self._on_reply_finished)
        library.prompts.modelReset.connect(self._sync_prompt_combo)
        connection.me_loaded.connect(self._on_me)
        connection.dropped.connect(lambda: self._on_me(None))
        session.chats.dataChanged.connect(lambda: self._on_current_chat(session.current_chat_id))

    def _connect_branches(self) -> None:
        branches, composer, transcript = self.branches, self.composer, self.transcript
        transcript.edit_requested.connect(branches.begin_edit)
        transcript.regenerate_requested.connect(branches.regenerate)
        transcript.switch_requested.connect(branches.switch)
        transcript.delete_requested.connect(self.delete_branch)
        composer.edit_last_requested.connect(branches.edit_last)
        composer.edit_submitted.connect(branches.submit_edit)
        composer.edit_cancelled.connect(branches.cancel_edit)
        branches.edit_started.connect(composer.begin_edit)
        branches.edit_ended.connect(composer.end_edit)
        branches.switched.connect(transcript.reveal)
        branches.busy_refused.connect(lambda why: self.status.showMessage(why, 4000))

    def _warm_up_highlighter(self) -> None:
        """Once, after start-up: load Pygments off the GUI thread (see warm_up)."""
        self.connection.reload_requested.disconnect(self._warm_up_highlighter)
        self.connection.pool.start(lambda worker: warm_up(), name="Loading the highlighter")

    # State shown in the window
    def show_error(self, info: ErrorInfo) -> None:
        self.banner.show_error(info)

    def _on_me(self, me: Me | None) -> None:
        """The Admin view is for admins; a key that is not one loses it, open or not. With
        no connection (None), the views close: what they show belonged to it."""
        is_admin = me is not None and me.is_admin
        self._username = me.username if me is not None else ""
        self.menu.admin.setVisible(is_admin)
        for view, keep in ((self.admin_view, is_admin), (self.usage_view, me is not None)):
            if view is not None and not keep:
                view.hide()

    def _on_busy(self, busy: bool) -> None:
        self.composer.set_busy(busy)
        self.menu.stop.setEnabled(busy)
        self.menu.regenerate.setEnabled(not busy)

    def _on_current_chat(self, chat_id: str | None) -> None:
        self.sidebar.select_chat(chat_id)
        self.composer.switch_draft(chat_id or "")
        title = self.session.chats.title_of(chat_id)
        self.setWindowTitle(f"{elide(title, 60)} — chatapp" if title else "chatapp")
        listed = chat_id is not None and self.session.chats.row_of(chat_id) >= 0
        for action in (*self.menu.export.values(), self.menu.rename):
            action.setEnabled(listed)

    def _on_models(self, names: list[str], selected: str) -> None:
        self.model_combo.clear()
        self.model_combo.addItems(names)
        self.model_combo.setCurrentText(selected)
        self.status.set_model(selected)

    def _pick_model(self, name: str) -> None:
        self.session.set_model(name)
        self.status.set_model(name)

    def _pick_temperature(self, value: float) -> None:
        self.session.set_temperature(None if value <= NO_TEMPERATURE else round(value, 1))

    def _on_chat_options(self, model: str, temperature: float | None) -> None:
        if model and self.model_combo.findText(model) >= 0:
            self.model_combo.setCurrentText(model)
            self.status.set_model(model)
        blocker = self.temperature_spin.blockSignals(True)
        self.temperature_spin.setValue(NO_TEMPERATURE if temperature is None else temperature)
        self.temperature_spin.blockSignals(blocker)

    def _on_reply_finished(self, chat_id: str, text: str) -> None:
        """Tell the user, when they are in another window, that the reply is there."""
        if self.isActiveWindow():
            return
        title = self.session.chats.title_of(chat_id)
        self.notifier.notify(f"Reply in “{elide(title, 60)}”" if title else "Reply ready", text)

    def _pick_prompt(self, row: int) -> None:
        prompt_id = self.prompt_combo.itemData(row, ID_ROLE)
        if prompt_id:
            self.library.activate(str(prompt_id))

    def _sync_prompt_combo(self) -> None:
        self.prompt_combo.setCurrentIndex(self.library.prompts.active_row())

    # Commands
    def new_chat(self) -> None:
        self.session.new_chat()
        self.composer.focus()

    def delete_branch(self, row: int) -> None:
        """Ask first: the message and every message below it, on all branches, go."""
        answer = QMessageBox.question(
            self,
            "Delete branch",
            "Delete this message and everything below it, other branches included? "
            "This cannot be undone.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.branches.delete(row)

    def focus_search(self) -> None:
        self.sidebar.search.setFocus()
        self.sidebar.search.selectAll()

    def export(self, fmt: str) -> None:
        label, ext = EXPORT_FORMATS[fmt]
        chat_id = self.session.current_chat_id or "chat"
        path, _ = QFileDialog.getSaveFileName(
            self, f"Export as {label}", str(Path.home() / f"{chat_id}.{ext}"), f"{label} (*.{ext})"
        )
        if path:
            self.session.export_chat(fmt, Path(path))

    def open_prompt_library(self) -> PromptLibraryDialog:
        if self.prompt_library is None:
            dialog = PromptLibraryDialog(self.library.prompts, self)
            dialog.save_requested.connect(self.library.save)
            dialog.delete_requested.connect(self.library.delete)
            dialog.activate_requested.connect(self.library.activate)
            self.library.saved.connect(dialog.saved)
            self.library.failed.connect(dialog.failed)
            self.prompt_library = dialog
        self.prompt_library.show()
        self.prompt_library.raise_()
        self.prompt_library.activateWindow()
        return self.prompt_library

    def open_usage(self) -> UsageView:
        if self.usage_view is None:
            view = UsageView(self)
            view.load_requested.connect(self.usage.load)
            self.usage.loaded.connect(view.show_snapshot)
            self.usage.failed.connect(view.show_error)
            self.usage_view = view
        return self._present(self.usage_view)

    def open_admin(self) -> AdminView | None:
        if not self.menu.admin.isVisible():
            return None  # the shortcut too: only for admins
        if self.admin_view is None:
            self.admin_view = AdminView(self.admin, self._username, self)
        self.admin_view.keys.me = self._username  # the key may have changed meanwhile
        return self._present(self.admin_view)

    def _present(self, view: ViewT) -> ViewT:
        """Show a view, up to date: each one loads afresh when opened."""
        view.reload()
        view.show()
        view.raise_()
        view.activateWindow()
        return view

    def open_settings(self) -> SettingsDialog:
        if self.settings_dialog is None:
            dialog = SettingsDialog(self.settings, self.connection.pool, self)
            dialog.theme_changed.connect(self.set_theme)
            dialog.providers_changed.connect(self._restart_local)
            dialog.font_size_changed.connect(lambda _: self._apply_look())
            dialog.change_connection_requested.connect(self.change_connection)
            self.settings_dialog = dialog
        self.settings_dialog.refresh()
        self.settings_dialog.show()
        self.settings_dialog.raise_()
        return self.settings_dialog

    def _restart_local(self) -> None:
        """New providers: the local server starts again with them."""
        connection = self.settings.connection()
        if connection is not None and connection.mode == "local":
            self.banner.dismiss()
            self.connection.connect_to(connection)

    def change_connection(self) -> None:
        dialog = ConnectionDialog(self.settings, self.connection.pool, self)
        if dialog.exec() == ConnectionDialog.DialogCode.Accepted:
            connection = self.settings.connection()
            if connection is not None:
                self.banner.dismiss()
                self.connection.connect_to(connection)
        if self.settings_dialog is not None:
            self.settings_dialog.refresh()

    def set_theme(self, theme: Theme) -> None:
        self.settings.theme = theme
        for action in self.menu.theme_group.actions():
            action.setChecked(action.data() == theme)
        self._apply_look()

    def zoom(self, step: int) -> None:
        current = self.settings.font_size or round(self.themes.base_point_size)
        self.settings.font_size = 0 if step == 0 else max(6, min(32, current + step))
        self._apply_look()

    def _apply_look(self) -> None:
        self.themes.apply(self.settings.theme, self.settings.font_size)
        self.banner.follow_theme()
        if self.usage_view is not None:
            self.usage_view.follow_theme()
        if self.settings_dialog is not None:
            self.settings_dialog.show_look()

    def show_shortcuts(self) -> None:
        ShortcutsDialog(self.actions(), self).exec()

    def about(self) -> None:
        QMessageBox.about(
            self,
            "About chatapp",
            f"<b>chatapp desktop</b> {__version__}<br>A client for the chatapp LLM chat server.",
        )

    # Window state
    def _restore_state(self) -> None:
        if not self.settings.geometry.isEmpty():
            self.restoreGeometry(self.settings.geometry)
        if not self.settings.splitter_state.isEmpty():
            self.splitter.restoreState(self.settings.splitter_state)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt's API)
        """Coming back to the window lists chats made elsewhere meanwhile (selection kept)."""
        super().changeEvent(event)
        activated = event.type() == QEvent.Type.ActivationChange and self.isActiveWindow()
        if activated and self.connection.state == "connected" and not self.session.busy:
            self.session.load_chats()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's API)
        library = self.prompt_library
        if library is not None and library.isVisible():
            library.close()  # asks about unsaved edits; Cancel keeps it open
            if library.isVisible():
                event.ignore()
                return
        self.settings.geometry = self.saveGeometry()
        self.settings.splitter_state = self.splitter.saveState()
        self.settings.sync()
        self.connection.shutdown()
        event.accept()
