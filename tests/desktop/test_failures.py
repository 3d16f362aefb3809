"""Failure handling you can trust (SPEC 17): drafts kept, retries in their own chat, the
server's reason shown, no reply left "replying…", and the status bar recovering by itself."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator

import pytest
from flask import Flask
from PySide6.QtCore import Qt
from werkzeug.serving import BaseWSGIServer, make_server

from desktop.api_client import ApiClient
from desktop.controllers.connection import ConnectionController
from desktop.main_window import MainWindow
from desktop.settings import Connection, Settings
from tests.desktop.helpers import WAIT_MS, open_chat, wait_idle
from tests.servers import free_port


class RestartableServer:
    """The app on one fixed local port, which a test can take down and bring back."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.url = f"http://127.0.0.1:{free_port()}"
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        port = int(self.url.rsplit(":", 1)[1])
        self._server = make_server("127.0.0.1", port, self.app, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,))
        self._thread.start()

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None and self._thread is not None:
            server.shutdown()
            server.server_close()
            self._thread.join(timeout=10)


@pytest.fixture
def server(app: Flask) -> Iterator[RestartableServer]:
    restartable = RestartableServer(app)
    restartable.start()
    yield restartable
    restartable.stop()


@pytest.fixture
def api(live_server, admin_key: str) -> Iterator[ApiClient]:  # noqa: ANN001
    client = ApiClient(live_server.url, admin_key)
    yield client
    client.close()


def _send(qtbot, window: MainWindow, text: str) -> None:  # noqa: ANN001
    qtbot.keyClicks(window.composer.edit, text)
    qtbot.keyClick(window.composer.edit, Qt.Key.Key_Return)


def _fail_send(qtbot, window: MainWindow, text: str) -> str:  # noqa: ANN001
    _send(qtbot, window, text)
    qtbot.waitUntil(window.banner.isVisible, timeout=WAIT_MS)
    wait_idle(qtbot, window)
    return window.banner.label.text()


def _contents(api: ApiClient, chat_id: str) -> list[str]:
    return [message.content for message in api.get_chat(chat_id).messages]


def _no_reply_in_progress(window: MainWindow) -> None:
    messages = window.session.messages
    assert not any(messages.message(r).streaming for r in range(messages.rowCount()))
    assert "replying…" not in window.transcript.toPlainText()
    assert window.composer.button.text() == "Send" and not window.session.busy


def test_a_retry_after_switching_chat_goes_to_the_chat_it_was_typed_in(
    qtbot,
    open_window: Callable[[Settings], MainWindow],
    remote_settings: Settings,
    api: ApiClient,
    fake_ollama,  # noqa: ANN001
) -> None:
    api.chat("About otters", chat_id="otters")
    api.chat("About herons", chat_id="herons")
    herons = _contents(api, "herons")
    window = open_window(remote_settings)
    open_chat(qtbot, window, "otters")
    fake_ollama.fail_status = 500
    _fail_send(qtbot, window, "Do otters hold hands?")
    assert window.composer.text() == "Do otters hold hands?"  # the draft is kept
    open_chat(qtbot, window, "herons")
    assert window.composer.text() == ""  # the draft belongs to the otters chat
    fake_ollama.fail_status = None
    qtbot.mouseClick(window.banner.retry_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.session.busy, timeout=WAIT_MS)
    wait_idle(qtbot, window)
    assert _contents(api, "otters")[-2] == "Do otters hold hands?"
    assert _contents(api, "herons") == herons  # untouched
    assert window.session.current_chat_id == "otters"
    shown = window.transcript.toPlainText()
    assert "About otters" in shown and "Do otters hold hands?" in shown
    assert window.composer.text() == ""  # sent, so no longer a draft
    open_chat(qtbot, window, "herons")
    assert window.composer.text() == ""


def test_a_failed_send_keeps_its_draft(qtbot, window: MainWindow, fake_ollama) -> None:  # noqa: ANN001
    fake_ollama.fail_status = 500
    _fail_send(qtbot, window, "A question worth keeping")
    assert window.composer.text() == "A question worth keeping"
    assert window.session.messages.rowCount() == 0
    assert window.session.chats.rowCount() == 0  # nothing was stored: no such chat
    _no_reply_in_progress(window)


def test_the_banner_gives_the_servers_reason_for_a_deactivated_user(
    qtbot,
    open_window: Callable[[Settings], MainWindow],
    settings: Settings,
    live_server,
    make_user,  # noqa: ANN001
    api: ApiClient,
) -> None:
    bob = make_user("bob")
    settings.set_connection(Connection("remote", live_server.url, bob.key))
    window = open_window(settings)
    assert not window.banner.isVisible()
    api.update_user("bob", is_active=False)
    text = _fail_send(qtbot, window, "Still there?")
    assert text.startswith("Sending failed: This user is deactivated.")  # not its echoes
    assert window.status.connection_label.property("state") == "unauthorized"
    assert window.composer.text() == "Still there?"
    _no_reply_in_progress(window)


def test_nothing_stays_replying_when_the_server_is_gone(
    qtbot,
    open_window: Callable[[Settings], MainWindow],
    settings: Settings,
    server: RestartableServer,
    admin_key: str,
) -> None:
    settings.set_connection(Connection("remote", server.url, admin_key))
    window = open_window(settings)
    server.stop()
    text = _fail_send(qtbot, window, "Anyone home?")
    assert "Cannot reach the server" in text
    _no_reply_in_progress(window)
    assert window.session.messages.rowCount() == 0
    assert window.composer.text() == "Anyone home?"


def test_the_status_bar_recovers_by_itself_when_the_server_is_back(
    qtbot,
    open_window: Callable[[Settings], MainWindow],
    settings: Settings,
    server: RestartableServer,
    admin_key: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ConnectionController, "RECHECK_MS", 100)
    settings.set_connection(Connection("remote", server.url, admin_key))
    window = open_window(settings)
    server.stop()
    _fail_send(qtbot, window, "Hello?")
    state = window.status.connection_label
    assert state.property("state") == "offline"
    server.start()
    qtbot.waitUntil(lambda: state.property("state") == "connected", timeout=WAIT_MS)
    wait_idle(qtbot, window)
    assert "admin" in state.text()
    qtbot.mouseClick(window.composer.button, Qt.MouseButton.LeftButton)  # send the kept draft
    qtbot.waitUntil(lambda: not window.session.busy, timeout=WAIT_MS)
    wait_idle(qtbot, window)
    assert window.session.messages.rowCount() == 2
    assert state.property("state") == "connected"
