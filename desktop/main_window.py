"""The main window: lays out the widgets, owns the menus, and wires intents to the controller."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
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
from desktop.controller import Controller
from desktop.dialogs.connection import ConnectionDialog
from desktop.dialogs.prompt_library import PromptLibraryDialog
from desktop.dialogs.settings import SettingsDialog
from desktop.dialogs.shortcuts import ShortcutsDialog
from desktop.errors import ErrorInfo
from desktop.models import ID_ROLE
from desktop.settings import THEMES, Settings, Theme
from desktop.theme import ThemeManager
from desktop.widgets.banner import ErrorBanner
from desktop.widgets.composer import Composer
from desktop.widgets.sidebar import ChatSidebar
from desktop.widgets.status import StatusBar
from desktop.widgets.transcript import Transcript

_COMBO_POLICY = QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
EXPORT_FORMATS = {"markdown": ("Markdown", "md"), "json": ("JSON", "json")}


class MainWindow(QMainWindow):
    def __init__(self, settings: Settings, themes: ThemeManager) -> None:
        super().__init__()
        self.settings = settings
        self.themes = themes
        self.controller = Controller(settings, self)
        self.prompt_library: PromptLibraryDialog | None = None
        self.settings_dialog: SettingsDialog | None = None
        self._setup_ui()
        self._setup_menus()
        self._connect_signals()
        self._restore_state()

    def _setup_ui(self) -> None:
        self.setWindowTitle("chatapp")
        self.sidebar = ChatSidebar(self.controller.chats)
        self.model_combo = QComboBox()
        self.model_combo.setObjectName("modelCombo")
        self.model_combo.setMinimumContentsLength(6)
        self.model_combo.setSizeAdjustPolicy(_COMBO_POLICY)
        self.model_combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.prompt_combo = QComboBox()
        self.prompt_combo.setObjectName("promptCombo")
        self.prompt_combo.setModel(self.controller.prompts)
        self.prompt_combo.setPlaceholderText("Built-in default")
        self.prompt_combo.setMinimumContentsLength(6)
        self.prompt_combo.setSizeAdjustPolicy(_COMBO_POLICY)
        self.prompt_combo.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.prompt_combo.setToolTip("The system prompt new chats start with")
        self.library_button = QPushButton("Library…")
        self.library_button.setToolTip("Open the prompt library")
        pickers = QHBoxLayout()
        pickers.setContentsMargins(12, 8, 12, 4)
        pickers.addWidget(QLabel("Model:"))
        pickers.addWidget(self.model_combo)
        pickers.addSpacing(12)
        pickers.addWidget(QLabel("Prompt:"))
        pickers.addWidget(self.prompt_combo)
        pickers.addSpacing(6)
        pickers.addWidget(self.library_button)
        self.banner = ErrorBanner()
        self.transcript = Transcript(self.controller.messages)
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

    def _action(
        self, text: str, slot: object, shortcut: QKeySequence | str | None = None
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _setup_menus(self) -> None:
        std = QKeySequence.StandardKey
        self.new_action = self._action("&New Chat", self._new_chat, std.New)
        self.export_actions = {
            fmt: self._action(f"Export Chat as {label}…", lambda _=False, f=fmt: self.export(f))
            for fmt, (label, _ext) in EXPORT_FORMATS.items()
        }
        self.settings_action = self._action("&Settings…", self.open_settings, "Ctrl+,")
        self.quit_action = self._action("&Quit", self.close, std.Quit)
        self.rename_action = self._action("&Rename Chat", self.sidebar.start_rename, "F2")
        self.stop_action = self._action("&Stop Reply", self.controller.stop, "Esc")
        self.search_action = self._action("Search Chats", self._focus_search, std.Find)
        self.library_action = self._action(
            "&Prompt Library…", self.open_prompt_library, "Ctrl+Shift+P"
        )
        self.bigger_action = self._action("&Bigger Text", lambda: self._zoom(1), std.ZoomIn)
        self.smaller_action = self._action("&Smaller Text", lambda: self._zoom(-1), std.ZoomOut)
        self.reset_zoom_action = self._action("&Default Text Size", lambda: self._zoom(0), "Ctrl+0")
        self.shortcuts_action = self._action("&Keyboard Shortcuts", self.show_shortcuts, "F1")
        self.about_action = self._action("&About chatapp", self._about)
        menus = self.menuBar()
        file_menu = menus.addMenu("&File")
        file_menu.addAction(self.new_action)
        for action in self.export_actions.values():
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(self.settings_action)
        file_menu.addAction(self.quit_action)
        chat_menu = menus.addMenu("&Chat")
        for action in (self.rename_action, self.sidebar.delete_action, self.stop_action):
            chat_menu.addAction(action)
        chat_menu.addAction(self.search_action)
        menus.addMenu("&Prompts").addAction(self.library_action)
        view_menu = menus.addMenu("&View")
        theme_menu = view_menu.addMenu("&Theme")
        self.theme_group = QActionGroup(self)
        for theme in THEMES:
            action = theme_menu.addAction(theme.capitalize())
            action.setCheckable(True)
            action.setChecked(theme == self.settings.theme)
            action.setData(theme)
            self.theme_group.addAction(action)
        for action in (self.bigger_action, self.smaller_action, self.reset_zoom_action):
            view_menu.addAction(action)
        help_menu = menus.addMenu("&Help")
        help_menu.addAction(self.shortcuts_action)
        help_menu.addAction(self.about_action)

    def _connect_signals(self) -> None:
        c, sidebar = self.controller, self.sidebar
        sidebar.new_requested.connect(self._new_chat)
        sidebar.chat_selected.connect(c.open_chat)
        sidebar.rename_requested.connect(c.rename_chat)
        sidebar.delete_requested.connect(c.delete_chat)
        sidebar.search_changed.connect(lambda text: c.load_chats(search=text))
        self.composer.send_requested.connect(c.send)
        self.composer.stop_requested.connect(c.stop)
        self.banner.retry_requested.connect(c.retry)
        self.banner.settings_requested.connect(self.open_settings)
        self.transcript.copied.connect(lambda row: self.status.showMessage("Copied", 2000))
        self.model_combo.activated.connect(lambda: self._pick_model(self.model_combo.currentText()))
        self.prompt_combo.activated.connect(self._pick_prompt)
        self.library_button.clicked.connect(self.open_prompt_library)
        self.theme_group.triggered.connect(lambda action: self.set_theme(action.data()))
        c.connection_state.connect(self.status.set_connection)
        c.error.connect(self.show_error)
        c.busy_changed.connect(self._on_busy)
        c.current_chat_changed.connect(self._on_current_chat)
        c.models_loaded.connect(self._on_models)
        c.usage_changed.connect(self.status.set_usage)
        c.rate_limit_changed.connect(self.status.set_rate_limit)
        c.exported.connect(lambda path: self.status.showMessage(f"Exported to {path}", 5000))
        c.prompts.modelReset.connect(self._sync_prompt_combo)
        c.chats.dataChanged.connect(lambda: self._on_current_chat(c.current_chat_id))
        self._on_busy(False)
        self._on_current_chat(None)
        self.composer.focus()

    # State shown in the window
    def show_error(self, info: ErrorInfo) -> None:
        self.banner.show_error(info)

    def _on_busy(self, busy: bool) -> None:
        self.composer.set_busy(busy)
        self.stop_action.setEnabled(busy)

    def _on_current_chat(self, chat_id: str | None) -> None:
        self.sidebar.select_chat(chat_id)
        row = self.controller.chats.row_of(chat_id) if chat_id else -1
        title = self.controller.chats.chat(row).title if row >= 0 else ""
        self.setWindowTitle(f"{title} — chatapp" if title else "chatapp")
        for action in (*self.export_actions.values(), self.rename_action):
            action.setEnabled(row >= 0)

    def _on_models(self, names: list[str], selected: str) -> None:
        self.model_combo.clear()
        self.model_combo.addItems(names)
        self.model_combo.setCurrentText(selected)
        self.status.set_model(selected)

    def _pick_model(self, name: str) -> None:
        self.controller.set_model(name)
        self.status.set_model(name)

    def _pick_prompt(self, row: int) -> None:
        prompt_id = self.prompt_combo.itemData(row, ID_ROLE)
        if prompt_id:
            self.controller.activate_prompt(str(prompt_id))

    def _sync_prompt_combo(self) -> None:
        self.prompt_combo.setCurrentIndex(self.controller.prompts.active_row())

    # Commands
    def _new_chat(self) -> None:
        self.controller.new_chat()
        self.composer.focus()

    def _focus_search(self) -> None:
        self.sidebar.search.setFocus()
        self.sidebar.search.selectAll()

    def export(self, fmt: str) -> None:
        label, ext = EXPORT_FORMATS[fmt]
        chat_id = self.controller.current_chat_id or "chat"
        path, _ = QFileDialog.getSaveFileName(
            self, f"Export as {label}", str(Path.home() / f"{chat_id}.{ext}"), f"{label} (*.{ext})"
        )
        if path:
            self.controller.export_chat(fmt, Path(path))

    def open_prompt_library(self) -> PromptLibraryDialog:
        if self.prompt_library is None:
            dialog = PromptLibraryDialog(self.controller.prompts, self)
            dialog.save_requested.connect(self.controller.save_prompt)
            dialog.delete_requested.connect(self.controller.delete_prompt)
            dialog.activate_requested.connect(self.controller.activate_prompt)
            self.controller.prompt_saved.connect(dialog.saved)
            self.controller.prompt_failed.connect(dialog.failed)
            self.prompt_library = dialog
        self.prompt_library.show()
        self.prompt_library.raise_()
        self.prompt_library.activateWindow()
        return self.prompt_library

    def open_settings(self) -> SettingsDialog:
        if self.settings_dialog is None:
            dialog = SettingsDialog(self.settings, self)
            dialog.theme_changed.connect(self.set_theme)
            dialog.font_size_changed.connect(lambda _: self._apply_look())
            dialog.change_connection_requested.connect(self.change_connection)
            self.settings_dialog = dialog
        self.settings_dialog.refresh()
        self.settings_dialog.show()
        self.settings_dialog.raise_()
        return self.settings_dialog

    def change_connection(self) -> None:
        dialog = ConnectionDialog(self.settings, self.controller.pool, self)
        if dialog.exec() == ConnectionDialog.DialogCode.Accepted:
            connection = self.settings.connection()
            if connection is not None:
                self.banner.dismiss()
                self.controller.connect_to(connection)
        if self.settings_dialog is not None:
            self.settings_dialog.refresh()

    def set_theme(self, theme: Theme) -> None:
        self.settings.theme = theme
        for action in self.theme_group.actions():
            action.setChecked(action.data() == theme)
        self._apply_look()

    def _zoom(self, step: int) -> None:
        current = self.settings.font_size or round(self.themes.base_point_size)
        self.settings.font_size = 0 if step == 0 else max(6, min(32, current + step))
        self._apply_look()

    def _apply_look(self) -> None:
        self.themes.apply(self.settings.theme, self.settings.font_size)

    def show_shortcuts(self) -> None:
        ShortcutsDialog(self.actions(), self).exec()

    def _about(self) -> None:
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
        self.controller.shutdown()
        event.accept()
