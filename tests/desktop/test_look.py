"""The second edition's look and feel: elided titles with their day, an empty list that says
why, chats made elsewhere appearing on return, a composer that grows with its text."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date

import pytest
from PySide6.QtCore import Qt

from desktop.api_client import ApiClient
from desktop.main_window import MainWindow
from desktop.models import DETAILS_ROLE, relative_day
from desktop.settings import Settings
from tests.desktop.helpers import (
    WAIT_MS,
    focus,
    open_chat,
    put_another_window_in_front,
    wait_idle,
)

LONG_TITLE = "A very long question about " + "many different things " * 10


@pytest.fixture
def api(live_server, admin_key: str) -> Iterator[ApiClient]:  # noqa: ANN001
    client = ApiClient(live_server.url, admin_key)
    yield client
    client.close()


def test_a_long_title_is_elided_in_the_sidebar_and_the_window_title(
    qtbot, open_window: Callable[[Settings], MainWindow], remote_settings: Settings, api: ApiClient
) -> None:
    api.chat(LONG_TITLE, chat_id="long")
    window = open_window(remote_settings)
    view = window.sidebar.list
    assert view.horizontalScrollBar().maximum() == 0  # nothing to scroll sideways
    rect = view.visualRect(window.session.chats.index(0))
    assert rect.width() <= view.viewport().width()
    assert "Today" not in window.session.chats.index(0).data(DETAILS_ROLE)  # a time, today
    assert window.session.chats.index(0).data(DETAILS_ROLE).endswith("· 2 messages")
    open_chat(qtbot, window, "long")
    assert window.windowTitle().endswith("… — chatapp") and len(window.windowTitle()) < 80


def test_relative_days() -> None:
    today = date(2026, 3, 12)  # a Thursday
    assert relative_day("2026-03-11T09:00:00", today) == "Yesterday"
    assert relative_day("2026-03-09T09:00:00", today) == "Monday"
    assert relative_day("2026-01-02T09:00:00", today) == "2 Jan 2026"
    assert relative_day("not a date", today) == "not a date"


def test_an_empty_search_says_nothing_matches(qtbot, window: MainWindow) -> None:  # noqa: ANN001
    qtbot.keyClicks(window.sidebar.search, "zebras")
    qtbot.waitUntil(lambda: window.session.chats.rowCount() == 0, timeout=WAIT_MS)
    wait_idle(qtbot, window)
    assert window.sidebar.list.empty_text == "No chats match “zebras”."
    window.sidebar.search.clear()
    assert window.sidebar.list.empty_text == "No chats yet."


def test_chats_made_elsewhere_appear_when_the_window_is_back_in_front(
    qtbot, open_window: Callable[[Settings], MainWindow], remote_settings: Settings, api: ApiClient
) -> None:
    api.chat("Mine", chat_id="mine")
    window = open_window(remote_settings)
    open_chat(qtbot, window, "mine")
    put_another_window_in_front(qtbot)
    api.chat("From my phone", chat_id="phone")
    focus(qtbot, window.composer.edit)
    qtbot.waitUntil(lambda: window.session.chats.row_of("phone") >= 0, timeout=WAIT_MS)
    wait_idle(qtbot, window)
    assert window.session.current_chat_id == "mine"
    assert window.sidebar.current_chat_id() == "mine"  # the selection is kept


def test_the_composer_grows_with_its_text_up_to_a_limit(qtbot, window: MainWindow) -> None:  # noqa: ANN001
    edit = window.composer.edit
    empty = edit.height()
    for line in range(5):
        qtbot.keyClicks(edit, f"line {line}")
        qtbot.keyClick(edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: edit.height() > empty, timeout=WAIT_MS)
    five = edit.height()
    for _ in range(30):
        qtbot.keyClick(edit, Qt.Key.Key_Return, Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: edit.height() > five, timeout=WAIT_MS)
    assert edit.height() < window.height() / 2  # capped: then it scrolls
    edit.clear()
    qtbot.waitUntil(lambda: edit.height() == empty, timeout=WAIT_MS)
