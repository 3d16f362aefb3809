"""`make screenshots`: the desktop app against a real chatapp server and the fake Ollama.

Saves PNGs, each in the light and the dark theme, into docs/: the main window with a chat
holding highlighted code, a branched chat with its "‹ 2 / 3 ›" switchers, the prompt library,
Settings with local mode's providers checked, an error banner with the server's reason, the
first-run dialog, and the Usage and Admin views over a month of usage. Run it under a display
(`xvfb-run`) or with QT_QPA_PLATFORM=offscreen.
"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QSettings, Qt  # noqa: E402
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QWidget  # noqa: E402
from sqlalchemy import create_engine, insert, select  # noqa: E402

from chatapp.models import UsageDaily, User  # noqa: E402
from desktop.api_client import ApiClient  # noqa: E402
from desktop.dialogs.connection import ConnectionDialog  # noqa: E402
from desktop.local_server import LocalServer  # noqa: E402
from desktop.main_window import MainWindow  # noqa: E402
from desktop.providers import ProviderSettings  # noqa: E402
from desktop.settings import Connection, Settings, new_api_key  # noqa: E402
from desktop.theme import ThemeManager  # noqa: E402
from desktop.usage_data import last_days  # noqa: E402
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
# Past days' usage, per user: each model's typical tokens on a day it was used.
# The local server names a model with its provider, as it counts it.
LLAMA, QWEN = "ollama/llama3.1:8b-instruct-q8_0", "ollama/qwen2.5:7b"
PAST_USAGE = {
    "admin": {LLAMA: 5200, QWEN: 2600},
    "alice": {LLAMA: 9000, QWEN: 1200},
    "bob": {QWEN: 4000},
    "ci-bot": {LLAMA: 15000},
}
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


def open_window(app: QApplication, tmp: Path, name: str, url: str, key: str) -> MainWindow:
    """A main window connected to the server, its first loads done, in the light theme."""
    settings = Settings(QSettings(str(tmp / f"{name}.ini"), QSettings.Format.IniFormat), False, tmp)
    settings.set_connection(Connection("remote", url, key))
    themes = ThemeManager(app)
    window = MainWindow(settings, themes)
    window.set_theme("light")
    window.resize(1180, 760)
    window.show()
    window.connection.connect_to(Connection("remote", url, key))
    wait_until(app, lambda: idle(window))
    return window


def idle(window: MainWindow) -> bool:
    return not window.session.busy and window.connection.pool.active_count == 0


def in_both_themes(app: QApplication, window: MainWindow, widget: QWidget, name: str) -> None:
    """`name`-light.png and `name`-dark.png, then back to light."""
    for theme in ("light", "dark"):
        window.set_theme(theme)
        save(app, widget, f"{name}-{theme}.png")
    window.set_theme("light")


def shoot_main_window(app: QApplication, window: MainWindow) -> None:
    QTest.keyClicks(window.composer.edit, QUESTION)
    QTest.keyClick(window.composer.edit, Qt.Key.Key_Return)
    wait_until(app, lambda: idle(window))
    in_both_themes(app, window, window, "desktop-main")


BRANCHED = "coffee-names"
QUESTION_1 = "Suggest a name for a small coffee shop by the sea."
ANSWERS = [
    "How about **Tidewater Coffee**?",
    "Maybe **The Salty Bean**: playful, and it says *seaside* at once.",
    "Try **Harbour Roast**: calm, local, and easy to remember.",
]
FOLLOW_UP = ("Something shorter?", "**Brew & Breeze**, or just **Breeze**.")
EDITED = ("Something with “salt” in it?", "**Salt & Crema**: short, and it sounds like coffee.")


def branched_chat(api: ApiClient, ollama: FakeOllama) -> None:
    """Three answers to the first question, the second one shown, and below it a follow-up
    that was edited: both show a switcher, the first with both arrows."""

    def answer(text: str) -> None:
        ollama.tokens = text_tokens(text)

    answer(ANSWERS[0])
    api.chat(QUESTION_1, chat_id=BRANCHED)
    answer(ANSWERS[1])
    second = api.regenerate(BRANCHED).message_id
    answer(FOLLOW_UP[1])
    api.chat(FOLLOW_UP[0], chat_id=BRANCHED)
    answer(EDITED[1])
    api.chat(EDITED[0], chat_id=BRANCHED, parent_id=second)
    answer(ANSWERS[2])
    api.regenerate(BRANCHED, second)
    api.switch_branch(BRANCHED, second)  # down to its newest leaf: the edited follow-up


def shoot_branches(
    app: QApplication, window: MainWindow, api: ApiClient, ollama: FakeOllama
) -> None:
    branched_chat(api, ollama)
    window.session.load_chats()
    wait_until(app, lambda: idle(window) and window.session.chats.row_of(BRANCHED) >= 0)
    window.session.open_chat(BRANCHED)
    wait_until(app, lambda: idle(window) and window.session.messages.rowCount() > 0)
    window.branches.edit_last()  # the editor too, as Up in the empty composer opens it
    in_both_themes(app, window, window, "desktop-branches")
    window.composer.end_edit()


def shoot_prompt_library(app: QApplication, window: MainWindow) -> None:
    library = window.open_prompt_library()
    library.resize(900, 560)
    row = window.library.prompts.row_of("code-assistant")
    library.list.setCurrentIndex(window.library.prompts.index(row))
    in_both_themes(app, window, library, "desktop-prompt-library")
    library.hide()


def shoot_settings(app: QApplication, window: MainWindow, ollama_url: str) -> None:
    """Settings as local mode shows it, with a provider checked."""
    window.settings.set_connection(Connection("local"))
    window.settings.set_providers(ProviderSettings(ollama_host=ollama_url))
    dialog = window.open_settings()
    dialog.openai_url_edit.setText("http://127.0.0.1:8080/v1")
    dialog.check("ollama")
    dialog.check("openai")  # nothing listens there: the error shows
    wait_until(app, lambda: all(b.isEnabled() for b in dialog.test_buttons.values()))
    in_both_themes(app, window, dialog, "desktop-settings")
    dialog.hide()


def shoot_error_banner(app: QApplication, url: str, admin: ApiClient, tmp: Path) -> None:
    """A deactivated user's send: the server's reason in the banner, the draft kept."""
    sam = admin.create_user("sam")
    window = open_window(app, tmp, "sam", url, sam.api_key)
    admin.update_user("sam", is_active=False)
    QTest.keyClicks(window.composer.edit, "Can you summarise the meeting notes?")
    QTest.keyClick(window.composer.edit, Qt.Key.Key_Return)
    wait_until(app, lambda: window.banner.isVisible() and idle(window))
    in_both_themes(app, window, window, "desktop-error-banner")
    window.close()


def shoot_first_run(app: QApplication, tmp: Path) -> None:
    settings = Settings(QSettings(str(tmp / "first.ini"), QSettings.Format.IniFormat), False, tmp)
    window = MainWindow(settings, ThemeManager(app))
    dialog = ConnectionDialog(settings, window.connection.pool)
    dialog.show()
    in_both_themes(app, window, dialog, "desktop-first-run")
    dialog.reject()
    window.connection.shutdown()


def add_past_usage(database: Path) -> None:
    """29 days of made-up but plausible usage before today's real turns, straight into the
    usage table (the API only counts calls as they happen, today)."""
    rng = random.Random(14)
    start, _ = last_days(30)
    engine = create_engine(f"sqlite:///{database}")
    with engine.begin() as connection:
        ids = dict(connection.execute(select(User.username, User.id)).all())
        rows = [
            _usage_row(rng, ids[user], start + timedelta(days=n), model, typical)
            for user, models in PAST_USAGE.items()
            for n in range(29)
            for model, typical in models.items()
            if rng.random() < 0.8
        ]
        connection.execute(insert(UsageDaily), rows)
    engine.dispose()


def _usage_row(rng: random.Random, user_id: int, day: date, model: str, typical: int) -> dict:
    tokens = int(typical * rng.uniform(0.3, 1.6))
    requests = max(1, tokens // 450)
    return {
        "user_id": user_id,
        "day": day,
        "model": model,
        "requests": requests,
        "errors": int(rng.random() < 0.2),
        "prompt_tokens": tokens * 2 // 5,
        "completion_tokens": tokens - tokens * 2 // 5,
        "cost": 0.0,
    }


def shoot_usage(app: QApplication, window: MainWindow) -> None:
    view = window.open_usage()
    view.resize(940, 700)
    wait_until(app, lambda: idle(window))
    in_both_themes(app, window, view, "desktop-usage")
    view.hide()


def shoot_admin(app: QApplication, window: MainWindow) -> None:
    """The Users tab, with a user just deactivated and another with quotas of their own."""
    view = window.open_admin()
    assert view is not None
    view.resize(1000, 600)
    wait_until(app, lambda: idle(window))
    view.users.select("bob")
    in_both_themes(app, window, view, "desktop-admin")
    view.hide()


def make_team(api: ApiClient) -> None:
    """A few users with limits of their own, as an admin would set them up."""
    for name in PAST_USAGE:
        if name != "admin":
            api.create_user(name)
    api.create_user("carol")
    api.create_user("dana", is_admin=True)
    api.update_user("alice", token_quota_per_day=20000, token_quota_per_month=400000)
    api.update_user("bob", rate_limit_per_hour=200)
    api.update_user("ci-bot", rate_limit_per_hour=5000, token_quota_per_month=600000)
    api.update_user("carol", is_active=False)
    api.update_user("admin", token_quota_per_day=12000)


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
        api.chat("Name three rivers in Portugal", model=QWEN)
        make_team(api)
        add_past_usage(tmp / "server" / "chatapp.db")
        ollama.token_delay = 0.002
        try:
            window = open_window(app, tmp, "main", url, key)
            shoot_main_window(app, window)
            shoot_branches(app, window, api, ollama)
            shoot_prompt_library(app, window)
            shoot_usage(app, window)
            shoot_admin(app, window)
            shoot_settings(app, window, ollama.url)
            window.close()
            shoot_error_banner(app, url, api, tmp)
            shoot_first_run(app, tmp)
        finally:
            api.close()
            server.stop()


if __name__ == "__main__":
    main()
