"""The Admin view, driven through its widgets against a real in-process server."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QInputDialog, QMessageBox, QTableWidget, QWidget

from desktop.api_client import ApiClient, ApiClientError
from desktop.controllers.admin import AUDIT_PAGE
from desktop.main_window import MainWindow
from desktop.settings import Connection, Settings
from desktop.views.admin import AdminView
from tests.desktop.helpers import WAIT_MS, answering, click, close_window, wait_idle

Button = QMessageBox.StandardButton


@pytest.fixture
def api(live_server, admin_key: str) -> Iterator[ApiClient]:  # noqa: ANN001
    client = ApiClient(live_server.url, admin_key)
    yield client
    client.close()


@pytest.fixture
def admin_view(qtbot, window: MainWindow) -> AdminView:  # noqa: ANN001
    """Opened as the user would: by its shortcut, once /me has said "admin"."""
    assert window.menu.admin.isVisible()
    qtbot.keyClick(
        window,
        Qt.Key.Key_A,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    view = window.admin_view
    assert view is not None and view.isVisible()
    wait_idle(qtbot, window)
    return view


def texts(table: QTableWidget) -> list[list[str]]:
    return [
        [table.item(r, c).text() if table.item(r, c) else "" for c in range(table.columnCount())]
        for r in range(table.rowCount())
    ]


def column(table: QTableWidget, index: int = 0) -> list[str]:
    return [row[index] for row in texts(table)]


def _create_user(qtbot, view: AdminView, username: str) -> None:  # noqa: ANN001
    dialog = view.users.ask_new_user()
    qtbot.keyClicks(dialog.username_edit, username)
    dialog.accept()


def _select_user(qtbot, view: AdminView, username: str) -> None:  # noqa: ANN001
    qtbot.waitUntil(lambda: username in column(view.users.table), timeout=WAIT_MS)
    view.users.select(username)


def test_a_non_admin_gets_no_admin_view(
    qtbot,  # noqa: ANN001
    open_window: Callable[[Settings], MainWindow],
    settings: Settings,
    live_server,  # noqa: ANN001
    make_user,  # noqa: ANN001
) -> None:
    sam = make_user("sam")
    settings.set_connection(Connection("remote", live_server.url, sam.key))
    window = open_window(settings)
    assert window.menu.usage.isVisible()
    assert not window.menu.admin.isVisible()
    qtbot.keyClick(
        window,
        Qt.Key.Key_A,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    assert window.open_admin() is None and window.admin_view is None


def test_the_users_tab_lists_the_users(admin_view: AdminView, make_user) -> None:  # noqa: ANN001
    assert column(admin_view.users.table) == ["admin"]
    assert texts(admin_view.users.table)[0][1:6] == [
        "admin",
        "active",
        "default",
        "default",
        "default",
    ]


def test_a_new_users_key_is_shown_once_and_copy_puts_it_on_the_clipboard(
    qtbot,  # noqa: ANN001
    window: MainWindow,
    admin_view: AdminView,
    live_server,  # noqa: ANN001
) -> None:
    _create_user(qtbot, admin_view, "carol")
    qtbot.waitUntil(lambda: admin_view.users.key_dialog is not None, timeout=WAIT_MS)
    dialog = admin_view.users.key_dialog
    assert dialog is not None and dialog.isVisible()
    assert "you won't see it again" in dialog.warning.text()
    key = dialog.key_edit.text()
    assert key.startswith("ck_") and dialog.key_edit.isReadOnly()
    qtbot.mouseClick(dialog.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == key
    assert dialog.copy_button.text() == "Copied ✓"
    assert ApiClient(live_server.url, key).me().username == "carol"
    qtbot.waitUntil(lambda: "carol" in column(admin_view.users.table), timeout=WAIT_MS)
    wait_idle(qtbot, window)


def test_deactivating_and_reactivating_a_user_reaches_the_server(
    qtbot,
    window: MainWindow,
    admin_view: AdminView,
    api: ApiClient,
    make_user,  # noqa: ANN001
) -> None:
    make_user("dave")
    qtbot.mouseClick(admin_view.users.refresh_button, Qt.MouseButton.LeftButton)
    _select_user(qtbot, admin_view, "dave")
    button = admin_view.users.active_button
    assert button.text() == "Deactivate"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "deactivated" in texts(admin_view.users.table)[1], timeout=WAIT_MS)
    assert {u.username: u.is_active for u in api.list_users()}["dave"] is False
    assert button.text() == "Reactivate"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "active" in texts(admin_view.users.table)[1], timeout=WAIT_MS)
    assert {u.username: u.is_active for u in api.list_users()}["dave"] is True
    wait_idle(qtbot, window)


def test_the_rate_limit_is_set_and_put_back_to_the_default(
    qtbot,
    window: MainWindow,
    admin_view: AdminView,
    api: ApiClient,
    make_user,  # noqa: ANN001
) -> None:
    make_user("erin")
    qtbot.mouseClick(admin_view.users.refresh_button, Qt.MouseButton.LeftButton)
    _select_user(qtbot, admin_view, "erin")
    dialog = admin_view.users.ask_limits()
    assert dialog is not None and dialog.spins["rate_limit_per_hour"].text() == "Default"
    dialog.spins["rate_limit_per_hour"].setValue(500)
    dialog.accept()
    qtbot.waitUntil(lambda: texts(admin_view.users.table)[1][3] == "500", timeout=WAIT_MS)
    assert {u.username: u.rate_limit_per_hour for u in api.list_users()}["erin"] == 500
    admin_view.users.select("erin")
    dialog = admin_view.users.ask_limits()
    assert dialog is not None
    dialog.spins["rate_limit_per_hour"].setValue(0)  # shown as "Default": sent as null
    dialog.accept()
    qtbot.waitUntil(lambda: texts(admin_view.users.table)[1][3] == "default", timeout=WAIT_MS)
    assert {u.username: u.rate_limit_per_hour for u in api.list_users()}["erin"] is None
    wait_idle(qtbot, window)


def _name_the_key(name: str) -> Callable[[QWidget], None]:
    def handle(dialog: QWidget) -> None:
        assert isinstance(dialog, QInputDialog), dialog
        dialog.setTextValue(name)
        dialog.accept()

    return handle


def test_a_new_key_of_ones_own_is_shown_once_and_listed(
    qtbot,
    window: MainWindow,
    admin_view: AdminView,
    api: ApiClient,  # noqa: ANN001
) -> None:
    keys = admin_view.keys
    admin_view.tabs.setCurrentWidget(keys)
    assert keys.owner() == "admin" and keys.new_button.isEnabled()
    with answering(_name_the_key("laptop")):
        qtbot.mouseClick(keys.new_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "laptop" in column(keys.table, 1), timeout=WAIT_MS)
    assert keys.key_dialog is not None
    clear = keys.key_dialog.key_edit.text()
    assert clear.startswith("ck_") and "you won't see it again" in keys.key_dialog.warning.text()
    prefix = next(k.prefix for k in api.list_keys() if k.name == "laptop")
    assert prefix in column(keys.table) and clear.startswith(prefix)
    wait_idle(qtbot, window)


def test_a_users_key_is_listed_and_revoked_after_confirmation(
    qtbot,
    window: MainWindow,
    admin_view: AdminView,
    api: ApiClient,
    live_server,
    make_user,  # noqa: ANN001
) -> None:
    kim = make_user("kim")
    qtbot.mouseClick(admin_view.users.refresh_button, Qt.MouseButton.LeftButton)
    _select_user(qtbot, admin_view, "kim")
    qtbot.mouseClick(admin_view.users.keys_button, Qt.MouseButton.LeftButton)
    keys = admin_view.keys
    assert admin_view.tabs.currentWidget() is keys and keys.owner() == "kim"
    assert not keys.new_button.isEnabled()  # the API makes keys for their owner only
    (prefix,) = [k.prefix for k in api.list_user_keys("kim")]
    qtbot.waitUntil(lambda: column(keys.table) == [prefix], timeout=WAIT_MS)
    assert texts(keys.table)[0][3:] == ["never", ""]
    keys.select(prefix)
    with answering(click(Button.Cancel)):
        qtbot.mouseClick(keys.revoke_button, Qt.MouseButton.LeftButton)
    assert api.list_user_keys("kim")[0].revoked_at is None
    with answering(click(Button.Yes)):
        qtbot.mouseClick(keys.revoke_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: texts(keys.table)[0][4] != "", timeout=WAIT_MS)
    assert api.list_user_keys("kim")[0].revoked_at is not None
    with pytest.raises(ApiClientError) as refused:
        ApiClient(live_server.url, kim.key).me()
    assert refused.value.status == 401
    assert not keys.revoke_button.isEnabled()
    wait_idle(qtbot, window)


def test_a_duplicate_username_shows_the_servers_reason_and_the_next_try_works(
    qtbot,
    window: MainWindow,
    admin_view: AdminView,  # noqa: ANN001
) -> None:
    _create_user(qtbot, admin_view, "admin")
    label = admin_view.users.state_label
    qtbot.waitUntil(lambda: "failed" in label.text(), timeout=WAIT_MS)
    assert "already exists" in label.text()
    assert admin_view.users.key_dialog is None
    _create_user(qtbot, admin_view, "frank")
    qtbot.waitUntil(lambda: "frank" in column(admin_view.users.table), timeout=WAIT_MS)
    assert admin_view.users.key_dialog is not None
    wait_idle(qtbot, window)


def test_an_admin_demoted_meanwhile_sees_forbidden_in_the_view(
    qtbot,
    window: MainWindow,
    admin_view: AdminView,
    live_server,
    make_user,  # noqa: ANN001
) -> None:
    boss = make_user("boss", is_admin=True)
    ApiClient(live_server.url, boss.key).update_user("admin", is_admin=False)
    qtbot.mouseClick(admin_view.users.refresh_button, Qt.MouseButton.LeftButton)
    label = admin_view.users.state_label
    qtbot.waitUntil(lambda: "failed" in label.text(), timeout=WAIT_MS)
    assert "admin" in label.text().lower()
    assert column(admin_view.users.table) == ["admin"]  # the last list stays on screen
    wait_idle(qtbot, window)


def test_in_local_mode_the_local_user_is_the_admin(
    qtbot,  # noqa: ANN001
    themes,  # noqa: ANN001
    settings: Settings,
    fake_ollama,  # noqa: ANN001
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OLLAMA_HOST", fake_ollama.url)
    settings.set_connection(Connection("local"))
    window = MainWindow(settings, themes)
    window.show()
    window.connection.connect_to(Connection("local", api_key=settings.local_api_key()))
    qtbot.waitUntil(window.menu.admin.isVisible, timeout=WAIT_MS)
    view = window.open_admin()
    assert view is not None
    qtbot.waitUntil(lambda: column(view.users.table) == ["admin"], timeout=WAIT_MS)
    wait_idle(qtbot, window)
    close_window(window)


def test_daily_and_monthly_quotas_are_set_and_the_server_has_them(
    qtbot,
    window: MainWindow,
    admin_view: AdminView,
    api: ApiClient,
    make_user,  # noqa: ANN001
) -> None:
    make_user("gina")
    qtbot.mouseClick(admin_view.users.refresh_button, Qt.MouseButton.LeftButton)
    _select_user(qtbot, admin_view, "gina")
    dialog = admin_view.users.ask_limits()
    assert dialog is not None
    dialog.spins["token_quota_per_day"].setValue(20_000)
    dialog.spins["token_quota_per_month"].setValue(400_000)
    dialog.accept()
    qtbot.waitUntil(lambda: texts(admin_view.users.table)[1][4] == "20,000", timeout=WAIT_MS)
    assert texts(admin_view.users.table)[1][3:6] == ["default", "20,000", "400,000"]
    gina = next(u for u in api.list_users() if u.username == "gina")
    assert (gina.token_quota_per_day, gina.token_quota_per_month) == (20_000, 400_000)
    wait_idle(qtbot, window)


def test_usage_by_user_shows_each_users_totals(
    qtbot,
    window: MainWindow,
    admin_view: AdminView,
    live_server,
    make_user,  # noqa: ANN001
) -> None:
    hank = make_user("hank")
    replies = [ApiClient(live_server.url, hank.key).chat("Hello there") for _ in range(2)]
    prompt = sum(r.usage.prompt_tokens or 0 for r in replies)
    completion = sum(r.usage.completion_tokens or 0 for r in replies)
    admin_view.tabs.setCurrentWidget(admin_view.usage)
    qtbot.mouseClick(admin_view.usage.refresh_button, Qt.MouseButton.LeftButton)
    table = admin_view.usage.table
    qtbot.waitUntil(lambda: "hank" in column(table), timeout=WAIT_MS)
    assert texts(table)[column(table).index("hank")] == [
        "hank",
        "2",
        "0",
        f"{prompt:,}",
        f"{completion:,}",
        "0.0000",
    ]
    assert texts(table)[column(table).index("admin")][1] == "0"
    wait_idle(qtbot, window)


def test_the_audit_log_shows_the_actions_taken_in_the_view(
    qtbot,
    window: MainWindow,
    admin_view: AdminView,  # noqa: ANN001
) -> None:
    _create_user(qtbot, admin_view, "ivy")
    qtbot.waitUntil(lambda: admin_view.users.key_dialog is not None, timeout=WAIT_MS)
    _select_user(qtbot, admin_view, "ivy")
    qtbot.mouseClick(admin_view.users.active_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "deactivated" in texts(admin_view.users.table)[1], timeout=WAIT_MS)
    audit = admin_view.audit
    admin_view.tabs.setCurrentWidget(audit)
    qtbot.mouseClick(audit.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "user:ivy" in column(audit.table, 3), timeout=WAIT_MS)
    ivy = [row for row in texts(audit.table) if row[3] == "user:ivy"]
    assert [row[1:3] for row in ivy] == [["admin", "user.updated"], ["admin", "user.created"]]
    assert all(row[5] for row in ivy)  # each with its request ID
    key = admin_view.users.key_dialog.key_edit.text()  # type: ignore[union-attr]
    assert not any(key in cell for row in texts(audit.table) for cell in row)  # its prefix only
    audit.action_combo.setCurrentText("user.created")
    qtbot.mouseClick(audit.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: set(column(audit.table, 2)) == {"user.created"}, timeout=WAIT_MS)
    audit.action_combo.setCurrentText("")
    audit.actor_edit.setText("nobody")
    qtbot.mouseClick(audit.apply_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: audit.page_label.text() == "No entries", timeout=WAIT_MS)
    wait_idle(qtbot, window)


def test_switching_to_a_non_admins_key_closes_the_admin_view(
    qtbot,
    window: MainWindow,
    admin_view: AdminView,
    live_server,
    make_user,  # noqa: ANN001
) -> None:
    sam = make_user("sam")
    window.connection.connect_to(Connection("remote", live_server.url, sam.key))
    qtbot.waitUntil(lambda: not window.menu.admin.isVisible(), timeout=WAIT_MS)
    assert not admin_view.isVisible()
    wait_idle(qtbot, window)


def test_the_audit_log_pages_older_and_newer(
    qtbot,
    window: MainWindow,
    admin_view: AdminView,
    make_user,  # noqa: ANN001
) -> None:
    for n in range(AUDIT_PAGE + 5):
        make_user(f"user{n:02d}")  # each one an audit entry, by "system"
    audit = admin_view.audit
    admin_view.tabs.setCurrentWidget(audit)
    audit.actor_edit.setText("system")
    qtbot.mouseClick(audit.apply_button, Qt.MouseButton.LeftButton)
    total = AUDIT_PAGE + 6  # and the bootstrap admin's
    qtbot.waitUntil(lambda: audit.page_label.text() == f"1–50 of {total}", timeout=WAIT_MS)
    assert column(audit.table, 3)[0] == "user:user54"  # newest first
    assert audit.next_button.isEnabled() and not audit.previous_button.isEnabled()
    qtbot.mouseClick(audit.next_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: audit.page_label.text() == f"51–{total} of {total}", timeout=WAIT_MS)
    assert column(audit.table, 3)[-1] == "user:admin"
    assert audit.previous_button.isEnabled() and not audit.next_button.isEnabled()
    qtbot.mouseClick(audit.previous_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: audit.page_label.text() == f"1–50 of {total}", timeout=WAIT_MS)
    wait_idle(qtbot, window)


def test_the_client_gets_403_forbidden_for_a_non_admin_on_every_admin_call(
    live_server,
    make_user,  # noqa: ANN001
) -> None:
    sam = ApiClient(live_server.url, make_user("sam").key)
    today = datetime.now(UTC).date()
    calls = [
        lambda: sam.usage_by_user(today, today),
        lambda: sam.audit(),
        lambda: sam.list_user_keys("admin"),
        lambda: sam.revoke_user_key("admin", "ck_whatever"),
        lambda: sam.list_users(),
    ]
    for call in calls:
        with pytest.raises(ApiClientError) as refused:
            call()
        assert (refused.value.status, refused.value.code) == (403, "forbidden")
    assert sam.my_usage(today, today).days == []  # their own usage is theirs to see
    sam.close()
