"""The main window's actions and menu bar: each command, its shortcut and the menu it sits in."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtGui import QAction, QActionGroup, QKeySequence

from desktop.settings import THEMES

if TYPE_CHECKING:
    from desktop.main_window import MainWindow

EXPORT_FORMATS = {"markdown": ("Markdown", "md"), "json": ("JSON", "json")}


class WindowActions:
    """Builds the actions on the window (so their shortcuts work anywhere in it) and the menus."""

    def __init__(self, window: MainWindow) -> None:
        self._window = window
        std = QKeySequence.StandardKey
        self.new = self._action("&New Chat", window.new_chat, std.New)
        self.export = {
            fmt: self._action(f"Export Chat as {label}…", lambda _=False, f=fmt: window.export(f))
            for fmt, (label, _ext) in EXPORT_FORMATS.items()
        }
        self.settings = self._action("&Settings…", window.open_settings, "Ctrl+,")
        self.quit = self._action("&Quit", window.close, std.Quit)
        self.rename = self._action("&Rename Chat", window.sidebar.start_rename, "F2")
        self.stop = self._action("&Stop Reply", window.session.stop, "Esc")
        self.regenerate = self._action(
            "Re&generate Last Reply", window.branches.regenerate_last, "Ctrl+R"
        )
        self.edit_last = self._action("&Edit Last Message", window.branches.edit_last)
        self.search = self._action("Search Chats", window.focus_search, std.Find)
        self.library = self._action("&Prompt Library…", window.open_prompt_library, "Ctrl+Shift+P")
        self.usage = self._action("&Usage…", window.open_usage, "Ctrl+Shift+U")
        self.admin = self._action("&Admin…", window.open_admin, "Ctrl+Shift+A")
        self.admin.setVisible(False)  # until /me says the user is an admin
        self.bigger = self._action("&Bigger Text", lambda: window.zoom(1), std.ZoomIn)
        self.smaller = self._action("&Smaller Text", lambda: window.zoom(-1), std.ZoomOut)
        self.reset_zoom = self._action("&Default Text Size", lambda: window.zoom(0), "Ctrl+0")
        self.shortcuts = self._action("&Keyboard Shortcuts", window.show_shortcuts, "F1")
        self.about = self._action("&About chatapp", window.about)
        self.theme_group = QActionGroup(window)
        self._fill_menu_bar()

    def _action(
        self, text: str, slot: Callable[..., object], shortcut: QKeySequence | str | None = None
    ) -> QAction:
        action = QAction(text, self._window)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        self._window.addAction(action)
        return action

    def _fill_menu_bar(self) -> None:
        menus = self._window.menuBar()
        file_menu = menus.addMenu("&File")
        file_menu.addAction(self.new)
        for action in self.export.values():
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(self.settings)
        file_menu.addAction(self.quit)
        chat_menu = menus.addMenu("&Chat")
        for action in (self.rename, self._window.sidebar.delete_action, self.stop):
            chat_menu.addAction(action)
        chat_menu.addSeparator()
        chat_menu.addAction(self.edit_last)
        chat_menu.addAction(self.regenerate)
        chat_menu.addSeparator()
        chat_menu.addAction(self.search)
        menus.addMenu("&Prompts").addAction(self.library)
        account_menu = menus.addMenu("&Account")
        account_menu.addAction(self.usage)
        account_menu.addAction(self.admin)
        view_menu = menus.addMenu("&View")
        theme_menu = view_menu.addMenu("&Theme")
        for theme in THEMES:
            action = theme_menu.addAction(theme.capitalize())
            action.setCheckable(True)
            action.setChecked(theme == self._window.settings.theme)
            action.setData(theme)
            self.theme_group.addAction(action)
        for action in (self.bigger, self.smaller, self.reset_zoom):
            view_menu.addAction(action)
        help_menu = menus.addMenu("&Help")
        help_menu.addAction(self.shortcuts)
        help_menu.addAction(self.about)
