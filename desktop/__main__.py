"""Entry point of `chatapp-desktop` and `python -m desktop`."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from types import TracebackType

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialog

from desktop import __version__
from desktop.dialogs.connection import ConnectionDialog
from desktop.errors import ErrorInfo
from desktop.main_window import MainWindow
from desktop.settings import Settings
from desktop.theme import ThemeManager

log = logging.getLogger("desktop")


def _setup_logging(settings: Settings) -> None:
    log_file = settings.data_dir() / "desktop.log"
    handlers = [logging.StreamHandler(), logging.FileHandler(log_file, encoding="utf-8")]
    logging.basicConfig(
        level=logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        handlers=handlers,
    )


def _install_excepthook(window: MainWindow) -> None:
    """An exception in a slot on the GUI thread is logged and shown, never a crash."""

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        log.error("Unexpected error", exc_info=(kind, exc, tb))
        window.show_error(ErrorInfo("crash", f"Unexpected error ({kind.__name__}: {exc})"))

    sys.excepthook = hook


def _close_on_signals(window: MainWindow) -> None:
    """Ctrl+C in the terminal, or SIGTERM, closes the window, so the local server stops cleanly."""
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: window.close())
    # Python runs signal handlers only between bytecodes; wake it while Qt waits for events.
    timer = QTimer(window)
    timer.timeout.connect(lambda: None)
    timer.start(250)


def _parse_options(argv: list[str]) -> None:
    """--help and --version print and exit here, before Qt starts; Qt's options pass on."""
    parser = argparse.ArgumentParser(
        prog="chatapp-desktop",
        description="Chat with LLMs through a chatapp server, or a private local one "
        "that the app runs itself (chosen on first start, changed in Settings).",
        epilog="Qt's own options, such as -style or -platform, are passed on to Qt.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.parse_known_args(argv[1:])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv if argv is None else argv
    _parse_options(argv)
    app = QApplication(argv)
    app.setOrganizationName("chatapp")
    app.setApplicationName("chatapp-desktop")
    app.setApplicationDisplayName("chatapp")
    settings = Settings()
    _setup_logging(settings)
    themes = ThemeManager(app)
    themes.apply(settings.theme, settings.font_size)
    window = MainWindow(settings, themes)
    if settings.connection() is None:
        first_run = ConnectionDialog(settings, window.connection.pool)
        if first_run.exec() != QDialog.DialogCode.Accepted:
            window.connection.shutdown()
            return 0
    connection = settings.connection()
    assert connection is not None  # the dialog saved one
    _install_excepthook(window)
    _close_on_signals(window)
    window.show()
    window.connection.connect_to(connection)
    return app.exec()


if __name__ == "__main__":
    sys.exit(main())
