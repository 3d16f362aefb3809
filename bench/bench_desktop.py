"""Desktop client: cold start, opening a 1,000-message chat tree, and GUI stalls while it opens
and while a reply streams.

Runs against chatapp under gunicorn (as deployed) and the fake Ollama. Qt runs offscreen unless
QT_QPA_PLATFORM says otherwise. `python -m bench bench_desktop`.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from pathlib import Path  # noqa: E402

from bench.harness import ROOT, gunicorn_server, prepared_env, sqlite_database  # noqa: E402
from tests.fakes.base import text_tokens, word_tokens  # noqa: E402
from tests.fakes.ollama import FakeOllama  # noqa: E402

COLD_STARTS = 5
OPENS = 5
BIG_CHAT_TURNS = 500  # 1,000 messages, plus the system prompt
BRANCH_EVERY = 50  # a question edited every 50 turns: branches, each with its own reply
STREAM_TOKENS = 2000
TOKENS_PER_SECOND = 200
AIMS_MS = {"cold start": 1500.0, "open 1,000 messages": 300.0, "longest stall": 50.0}
OPEN_LABEL = f"open a tree of {BIG_CHAT_TURNS * 2} messages"

ANSWER = (
    "Sure. Here is a version that keeps memory flat:\n\n```python\ndef total(rows):\n"
    "    return sum(float(r['amount']) for r in rows)\n```\n\nIt reads **one row** at a time."
)
MARKDOWN_REPLY = "\n\n".join(
    f"Paragraph {i}: a sentence with **bold** and `code` in it, like a model writes."
    if i % 5
    else "```python\nfor row in rows:\n    print(row)\n```"
    for i in range(200)
)

# The child process of the cold-start measurement: the same steps as desktop.__main__.main().
COLD_START_CHILD = """
import sys, time
from pathlib import Path
from PySide6.QtCore import QSettings
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication
from desktop.main_window import MainWindow
from desktop.settings import Settings
from desktop.theme import ThemeManager
app = QApplication(sys.argv)
settings = Settings(QSettings(sys.argv[1], QSettings.Format.IniFormat), False, Path(sys.argv[2]))
themes = ThemeManager(app)
themes.apply(settings.theme, settings.font_size)
window = MainWindow(settings, themes)
window.show()
QTest.qWaitForWindowExposed(window)
print("shown", time.time(), flush=True)
window.connection.connect_to(settings.connection())
while window.session.chats.rowCount() == 0:
    app.processEvents()
print("listed", time.time(), flush=True)
window.close()
"""


def seed(url: str, key: str, ollama: FakeOllama) -> None:
    """The chat "big": 1,000 messages on its current branch, and an edited question every
    BRANCH_EVERY turns, each answered (the branch shown is the long one, with switchers)."""
    from desktop.api_client import ApiClient

    api = ApiClient(url, key)
    ollama.tokens = text_tokens(ANSWER)
    for i in range(BIG_CHAT_TURNS):
        api.chat(f"Question {i}: how do I sum a column of a large CSV file?", chat_id="big")
    messages = api.get_chat("big").messages
    for row in range(1, len(messages) - 1, BRANCH_EVERY * 2):
        api.chat("The same, for a JSON file?", chat_id="big", parent_id=messages[row].parent_id)
    api.switch_branch("big", messages[-1].id)
    api.chat("A short chat", chat_id="small")
    api.close()


def server_reads(url: str, key: str) -> list[float]:
    """Milliseconds for the API call alone that opening "big" makes: the server's share."""
    from desktop.api_client import ApiClient

    api = ApiClient(url, key)
    took = []
    for _ in range(OPENS):
        started = time.perf_counter()
        api.get_chat("big")
        took.append((time.perf_counter() - started) * 1000)
    api.close()
    return took


def cold_start(url: str, key: str) -> tuple[list[float], list[float]]:
    from PySide6.QtCore import QSettings

    from desktop.settings import Connection, Settings

    shown, listed = [], []
    with tempfile.TemporaryDirectory() as tmp:
        ini = str(Path(tmp) / "settings.ini")
        settings = Settings(QSettings(ini, QSettings.Format.IniFormat), False, Path(tmp))
        settings.set_connection(Connection("remote", url, key))
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        for _ in range(COLD_STARTS):
            started = time.time()
            result = subprocess.run(
                [sys.executable, "-c", COLD_START_CHILD, ini, tmp],
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
                check=True,
            )
            stamps = dict(line.split() for line in result.stdout.splitlines() if line[:1].isalpha())
            shown.append((float(stamps["shown"]) - started) * 1000)
            listed.append((float(stamps["listed"]) - started) * 1000)
    return shown, listed


class Gui:
    """The main window, in this process, connected to the benchmark server."""

    def __init__(self, url: str, key: str, tmp: Path) -> None:
        from PySide6.QtCore import QSettings
        from PySide6.QtWidgets import QApplication

        from desktop.main_window import MainWindow
        from desktop.settings import Connection, Settings
        from desktop.theme import ThemeManager

        self.app = QApplication.instance() or QApplication([])
        ini = QSettings(str(tmp / "gui.ini"), QSettings.Format.IniFormat)
        settings = Settings(ini, False, tmp)
        settings.set_connection(Connection("remote", url, key))
        self.window = MainWindow(settings, ThemeManager(self.app))
        self.window.resize(1180, 760)
        self.window.show()
        self.session = self.window.session
        self.window.connection.connect_to(Connection("remote", url, key))
        self.wait(lambda: self.window.connection.pool.active_count == 0)

    def wait(self, condition: Callable[[], bool], timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise TimeoutError("the window did not get there in time")
            self.app.processEvents()

    def open_chat(self, chat_id: str, rows: int) -> tuple[float, float]:
        """Milliseconds from the click to the messages rendered and painted, and the longest
        GUI stall meanwhile (the gaps between ticks of a 1 ms timer)."""
        from PySide6.QtCore import QTimer

        ticks: list[float] = []
        timer = QTimer()
        timer.setInterval(1)
        timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
        started = time.perf_counter()
        ticks.append(started)
        timer.start()
        self.session.open_chat(chat_id)
        self.wait(lambda: self.session.messages.rowCount() == rows)
        self.window.transcript.viewport().repaint()
        ended = time.perf_counter()
        timer.stop()
        gaps = [b - a for a, b in zip(ticks, [*ticks[1:], ended], strict=True)]
        return (ended - started) * 1000, max(gaps) * 1000

    def stream_gaps(self, ollama: FakeOllama, tokens: list[str]) -> list[float]:
        """Gaps between ticks of a 1 ms timer while the reply streams: the GUI's stalls."""
        from PySide6.QtCore import QTimer

        ollama.tokens = tokens
        ollama.token_delay = 1 / TOKENS_PER_SECOND
        self.session.new_chat()
        ticks: list[float] = []
        timer = QTimer()
        timer.setInterval(1)
        timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
        timer.start()
        self.session.send("Stream a long answer, please.")
        self.wait(lambda: not self.session.busy)
        timer.stop()
        return [(b - a) * 1000 for a, b in zip(ticks, ticks[1:], strict=False)]

    def close(self) -> None:
        self.window.close()


def report(name: str, values: list[float], aim: float | None = None) -> None:
    verdict = "" if aim is None else ("  ok" if statistics.median(values) <= aim else "  OVER")
    aim_text = f"  (aim < {aim:.0f} ms)" if aim is not None else ""
    print(
        f"{name:<44} median {statistics.median(values):7.1f} ms   "
        f"min {min(values):7.1f}   max {max(values):7.1f}{aim_text}{verdict}"
    )


def main() -> None:
    with (
        FakeOllama() as ollama,
        sqlite_database() as database_url,
        tempfile.TemporaryDirectory() as tmp,
    ):
        env, key = prepared_env(
            database_url,
            OLLAMA_HOST=ollama.url,
            RATE_LIMIT_PER_HOUR="1000000",
            CHAT_RATE_LIMIT="1000000/minute",
        )
        with gunicorn_server("wsgi:app", env) as url:
            print(f"seeding a chat of {BIG_CHAT_TURNS * 2} messages…", flush=True)
            seed(url, key, ollama)
            shown, listed = cold_start(url, key)
            reads = server_reads(url, key)
            gui = Gui(url, key, Path(tmp))
            opens, stalls = [], []
            for _ in range(OPENS):
                gui.open_chat("small", 3)
                took, stall = gui.open_chat("big", BIG_CHAT_TURNS * 2 + 1)
                opens.append(took)
                stalls.append(stall)
            plain = gui.stream_gaps(ollama, word_tokens(STREAM_TOKENS))
            markdown = gui.stream_gaps(ollama, text_tokens(MARKDOWN_REPLY)[:STREAM_TOKENS])
            gui.close()
    print(f"\nDesktop client ({os.environ['QT_QPA_PLATFORM']}), {COLD_STARTS} cold starts")
    report("cold start: process start to window shown", shown, AIMS_MS["cold start"])
    report("cold start: to the chat list loaded", listed)
    report(OPEN_LABEL, opens, AIMS_MS["open 1,000 messages"])
    report(f"{OPEN_LABEL}: of which GET /chat/history", reads)
    report(f"{OPEN_LABEL}: longest GUI stall", stalls, AIMS_MS["longest stall"])
    aim = AIMS_MS["longest stall"]
    for label, gaps in (("one long paragraph", plain), ("Markdown with code", markdown)):
        verdict = "ok" if max(gaps) <= aim else "OVER"
        print(
            f"stream {STREAM_TOKENS} tokens at {TOKENS_PER_SECOND}/s, {label}: "
            f"longest GUI stall {max(gaps):.1f} ms (aim < {aim:.0f}) {verdict}, "
            f"p99 {sorted(gaps)[int(len(gaps) * 0.99)]:.1f} ms, {len(gaps)} timer ticks"
        )


if __name__ == "__main__":
    main()
