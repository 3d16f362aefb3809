"""Helpers for driving the real widgets: waiting for workers, answering modal dialogs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from desktop.main_window import MainWindow

WAIT_MS = 15_000  # generous: the suite also runs on slow, shared CI machines

Handler = Callable[[QWidget], None]


def wait_idle(qtbot, window: MainWindow) -> None:  # noqa: ANN001
    """Wait until no worker runs and every result has been delivered to the GUI thread."""
    qtbot.waitUntil(lambda: window.connection.pool.active_count == 0, timeout=WAIT_MS)


@contextmanager
def answering(handle: Handler, required: bool = True) -> Iterator[list[QWidget]]:
    """Within the block, hand the first modal dialog that opens (it blocks in exec()) to
    `handle`. With `required`, fail if none opened."""
    seen: list[QWidget] = []
    timer = QTimer()
    timer.setInterval(10)

    def attempt() -> None:
        dialog = QApplication.activeModalWidget()
        if dialog is not None and not seen:
            seen.append(dialog)
            timer.stop()
            handle(dialog)

    timer.timeout.connect(attempt)
    timer.start()
    try:
        yield seen
    finally:
        timer.stop()
    assert seen or not required, "no modal dialog was shown"


def click(button: QMessageBox.StandardButton) -> Handler:
    def handle(dialog: QWidget) -> None:
        assert isinstance(dialog, QMessageBox), dialog
        dialog.button(button).click()

    return handle


def focus(qtbot, widget: QWidget) -> None:  # noqa: ANN001
    """Give `widget` the keyboard focus in an active window, as a user's click would.
    Offscreen, a closed modal dialog does not hand the activation back by itself."""
    window = widget.window()
    if not window.isActiveWindow():
        with qtbot.waitActive(window):
            window.activateWindow()
    widget.setFocus()


def close_window(window: MainWindow) -> None:
    """Close as the user would; discard unsaved prompt edits if the window asks."""
    with answering(click(QMessageBox.StandardButton.Discard), required=False):
        window.close()


def open_chat(qtbot, window: MainWindow, chat_id: str) -> None:  # noqa: ANN001
    """Click the chat in the sidebar, as the user would, and wait for it to load."""
    view = window.sidebar.list
    rect = view.visualRect(window.session.chats.index(window.session.chats.row_of(chat_id)))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    wait_idle(qtbot, window)


def put_another_window_in_front(qtbot) -> QWidget:  # noqa: ANN001
    """Another window of the app, active: the main window is in the background."""
    other = QWidget()
    qtbot.addWidget(other)
    other.show()
    with qtbot.waitActive(other):
        other.activateWindow()
    return other
