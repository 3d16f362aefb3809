"""The Usage view, driven through its widgets against a real in-process server and the fake
Ollama: the table and the chart show what the server counted, with the quota line."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime

import pytest
from PySide6.QtCore import Qt

from desktop.api_client import ApiClient
from desktop.api_types import ChatReply, UsageReport, UsageRow, UsageTotals
from desktop.main_window import MainWindow
from desktop.settings import Connection, Settings
from desktop.usage_data import daily_tokens, last_days, per_model
from desktop.views.usage import UsageView
from tests.desktop.helpers import WAIT_MS, wait_idle
from tests.desktop.test_admin_view import texts

LLAMA, QWEN = "llama3.1:8b-instruct-q8_0", "qwen2.5:7b"
SHIFT_CTRL = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


@pytest.fixture
def api(live_server, admin_key: str) -> Iterator[ApiClient]:  # noqa: ANN001
    client = ApiClient(live_server.url, admin_key)
    yield client
    client.close()


def _open(qtbot, window: MainWindow) -> UsageView:  # noqa: ANN001
    """Opened by its shortcut, as the user would, and loaded."""
    qtbot.keyClick(window, Qt.Key.Key_U, SHIFT_CTRL)
    view = window.usage_view
    assert view is not None and view.isVisible()
    wait_idle(qtbot, window)
    return view


def _turns(api: ApiClient) -> list[ChatReply]:
    return [
        api.chat("Hello there", model=LLAMA),
        api.chat("What is a B-tree, in one line?", model=LLAMA),
        api.chat("Name three rivers", model=QWEN),
    ]


def _tokens(replies: list[ChatReply]) -> tuple[int, int]:
    prompt = sum(r.usage.prompt_tokens or 0 for r in replies)
    return prompt, sum(r.usage.completion_tokens or 0 for r in replies)


def test_the_view_shows_what_the_server_counted_per_model_and_day(
    qtbot,
    window: MainWindow,
    api: ApiClient,  # noqa: ANN001
) -> None:
    replies = _turns(api)
    view = _open(qtbot, window)
    llama_prompt, llama_completion = _tokens(replies[:2])
    qwen_prompt, qwen_completion = _tokens(replies[2:])
    expected = [
        [LLAMA, "2", "0", f"{llama_prompt:,}", f"{llama_completion:,}", "0.0000"],
        [QWEN, "1", "0", f"{qwen_prompt:,}", f"{qwen_completion:,}", "0.0000"],
    ]
    busiest_first = llama_prompt + llama_completion >= qwen_prompt + qwen_completion
    assert texts(view.table) == (expected if busiest_first else expected[::-1])
    values = view.chart.series_values()
    assert len(values[LLAMA]) == 30  # the default range: one bar per day
    assert values[LLAMA][-1] == llama_prompt + llama_completion  # today, the last bar
    assert values[QWEN][-1] == qwen_prompt + qwen_completion
    assert sum(values[LLAMA][:-1]) == sum(values[QWEN][:-1]) == 0
    assert f"{len(replies)} requests" in view.totals_label.text()
    assert view.chart.quota_line is None
    assert view.quota_label.text() == "Daily quota: unlimited · Monthly quota: unlimited"


def test_the_range_picker_asks_for_7_or_90_days(qtbot, window: MainWindow, api: ApiClient) -> None:  # noqa: ANN001
    api.chat("Hello there", model=LLAMA)
    view = _open(qtbot, window)
    for days in (7, 90):
        view.range_combo.setCurrentIndex(view.range_combo.findData(days))
        qtbot.waitUntil(lambda d=days: len(view.chart.series_values()[LLAMA]) == d, timeout=WAIT_MS)
        start, end = last_days(days)
        assert view.state_label.text() == f"{start} to {end} (UTC)"
    wait_idle(qtbot, window)


def test_a_daily_quota_draws_its_line_and_says_what_is_left(
    qtbot,
    window: MainWindow,
    api: ApiClient,  # noqa: ANN001
) -> None:
    replies = _turns(api)
    used = sum(_tokens(replies))
    api.update_user("admin", token_quota_per_day=5000)
    view = _open(qtbot, window)
    line = view.chart.quota_line
    assert line is not None
    assert [point.y() for point in line.points()] == [5000, 5000]
    assert line in view.chart.chart().series()
    assert f"Daily quota: 5,000 tokens ({5000 - used:,} left today)" in view.quota_label.text()


def test_a_server_error_shows_in_the_view_and_refresh_recovers(
    qtbot,  # noqa: ANN001
    open_window: Callable[[Settings], MainWindow],
    settings: Settings,
    live_server,  # noqa: ANN001
    make_user,  # noqa: ANN001
    api: ApiClient,
) -> None:
    sam = make_user("sam")
    settings.set_connection(Connection("remote", live_server.url, sam.key))
    window = open_window(settings)
    view = _open(qtbot, window)
    api.update_user("sam", is_active=False)
    qtbot.mouseClick(view.refresh_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "deactivated" in view.state_label.text(), timeout=WAIT_MS)
    assert view.refresh_button.isEnabled()  # not stuck in "Loading…"
    api.update_user("sam", is_active=True)
    qtbot.mouseClick(view.refresh_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "(UTC)" in view.state_label.text(), timeout=WAIT_MS)
    wait_idle(qtbot, window)


# The reshaping, on the server's JSON shape
REPORT = UsageReport(
    "2026-11-28",
    "2026-12-01",
    UsageTotals(4, 60, 90, 0.5),
    [
        UsageRow("2026-11-28", "a", 1, 0, 10, 20, 0.1),
        UsageRow("2026-11-30", "b", 2, 1, 30, 40, 0.3),
        UsageRow("2026-12-01", "a", 1, 0, 20, 30, 0.1),
    ],
)


def test_per_model_sums_the_days_busiest_first() -> None:
    assert per_model(REPORT.days) == [
        UsageRow("", "a", 2, 0, 30, 50, pytest.approx(0.2)),
        UsageRow("", "b", 2, 1, 30, 40, 0.3),
    ]


def test_daily_tokens_fill_the_days_without_use_with_zero() -> None:
    days = daily_tokens(REPORT)
    assert days.dates == [
        date(2026, 11, 28),
        date(2026, 11, 29),
        date(2026, 11, 30),
        date(2026, 12, 1),
    ]
    assert days.by_model == {"a": [30, 0, 0, 50], "b": [0, 0, 70, 0]}
    assert days.peak == 70


def test_last_days_end_today_in_utc() -> None:
    assert last_days(7, date(2026, 3, 3)) == (date(2026, 2, 25), date(2026, 3, 3))
    assert last_days(1)[1] == datetime.now(UTC).date()


def test_the_chart_follows_the_light_and_dark_themes(qtbot, window: MainWindow) -> None:  # noqa: ANN001
    view = _open(qtbot, window)
    for theme, base, text in (("dark", "#27282c", "#e6e6ea"), ("light", "#ffffff", "#1d1d20")):
        window.set_theme(theme)
        chart = view.chart.chart()
        assert chart.backgroundBrush().color().name() == base
        assert chart.legend().labelColor().name() == text
        assert {axis.labelsColor().name() for axis in chart.axes()} == {text}


def test_a_spent_quota_shows_the_servers_reason_in_the_banner_without_a_countdown(
    qtbot,
    window: MainWindow,
    api: ApiClient,  # noqa: ANN001
) -> None:
    api.update_user("admin", token_quota_per_day=1)
    api.chat("Hello there")  # the call that crosses the line completes
    window.session.send("And again?")
    qtbot.waitUntil(window.banner.isVisible, timeout=WAIT_MS)
    text = window.banner.label.text()
    assert "Token quota exceeded: 1 tokens per day" in text and "Usage" in text
    assert "Try again in" not in text
    assert not window.session.busy
    view = _open(qtbot, window)
    assert "(0 left today)" in view.quota_label.text()
