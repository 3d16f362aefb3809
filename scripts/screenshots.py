"""`make screenshots`: the desktop app against a real chatapp server and the fake Ollama.

Saves PNGs of the main window (light and dark, with a chat that contains code), the prompt
library and the first-run dialog into docs/. Run it under a display, e.g. `xvfb-run`.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QSettings, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402

from desktop.api_client import ApiClient  # noqa: E402
from desktop.dialogs.connection import ConnectionDialog  # noqa: E402
from desktop.local_server import LocalServer  # noqa: E402
from desktop.main_window import MainWindow  # noqa: E402
from desktop.providers import ProviderSettings  # noqa: E402
from desktop.settings import Connection, Settings, new_api_key  # noqa: E402
from desktop.theme import ThemeManager  # noqa: E402
from tests.fakes.base import text_tokens  # noqa: E402
from tests.fakes.ollama import FakeOllama  # noqa: E402

DOCS = ROOT / "docs"
QUESTION = "How do I read a large CSV file in Python without loading it all into memory?"
REPLY = """Use the `csv` module and iterate: rows are read **one at a time**, so memory stays flat.

```python
import csv

def total_amount(path: str) -> float:
    total = 0.0
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            total += float(row["amount"])
    return total
```

A few tips:

- Pass `newline=""`, as the `csv` docs ask, so quoted line breaks survive.
- For column-wise work, `pandas.read_csv(path, chunksize=100_000)` yields data frames.
- Keep the file open only inside the `with` block.
"""
OLDER_CHATS = [
    ("lisbon", "Plan a relaxed weekend in Lisbon"),
    ("decorators", "Explain Python decorators with an example"),
    ("sql-index", "When does an SQL index slow things down?"),
]


def wait_until(app: QApplication, condition: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the app did not get there in time")
        app.processEvents()
        time.sleep(0.01)


def settle(app: QApplication, seconds: float = 0.3) -> None:
    """Let layouts, repaints and deferred updates run before a grab."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        app.processEvents()
        time.sleep(0.01)


def save(app: QApplication, widget: QWidget, name: str) -> None:
    settle(app)
    path = DOCS / name
    widget.grab().save(str(path))
    print(f"saved {path.relative_to(ROOT)}")


def shoot_main_window(app: QApplication, tmp: Path, url: str, key: str) -> None:
    settings = Settings(QSettings(str(tmp / "main.ini"), QSettings.Format.IniFormat), False, tmp)
    settings.set_connection(Connection("remote", url, key))
    themes = ThemeManager(app)
    themes.apply("light")
    window = MainWindow(settings, themes)
    window.resize(1180, 760)
    window.show()
    window.connection.connect_to(Connection("remote", url, key))
    idle = lambda: window.connection.pool.active_count == 0  # noqa: E731
    wait_until(app, idle)
    QTest.keyClicks(window.composer.edit, QUESTION)
    QTest.keyClick(window.composer.edit, Qt.Key.Key_Return)
    wait_until(app, lambda: not window.session.busy and idle())
    save(app, window, "desktop-main-light.png")
    window.set_theme("dark")
    save(app, window, "desktop-main-dark.png")
    window.set_theme("light")
    library = window.open_prompt_library()
    library.resize(900, 560)
    row = window.library.prompts.row_of("code-assistant")
    library.list.setCurrentIndex(window.library.prompts.index(row))
    save(app, library, "desktop-prompt-library.png")
    library.hide()
    window.close()


def shoot_first_run(app: QApplication, tmp: Path) -> None:
    settings = Settings(QSettings(str(tmp / "first.ini"), QSettings.Format.IniFormat), False, tmp)
    window = MainWindow(settings, ThemeManager(app))
    dialog = ConnectionDialog(settings, window.connection.pool)
    dialog.show()
    save(app, dialog, "desktop-first-run.png")
    dialog.reject()
    window.connection.shutdown()


def main() -> None:
    app = QApplication(sys.argv)
    app.setOrganizationName("chatapp")
    app.setApplicationName("chatapp-desktop")
    DOCS.mkdir(exist_ok=True)
    key = new_api_key()
    with tempfile.TemporaryDirectory() as name, FakeOllama(tokens=text_tokens(REPLY)) as ollama:
        tmp = Path(name)
        server = LocalServer(tmp / "server", key, ProviderSettings(ollama_host=ollama.url))
        url = server.start()
        api = ApiClient(url, key)
        for chat_id, question in OLDER_CHATS:
            api.chat(question, chat_id=chat_id)
        ollama.token_delay = 0.002
        try:
            shoot_main_window(app, tmp, url, key)
            shoot_first_run(app, tmp)
        finally:
            api.close()
            server.stop()


if __name__ == "__main__":
    main()
