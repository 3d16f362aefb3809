"""Per-chat model and temperature, sent with each turn and remembered; and a notification
when a reply finishes while the window is in the background."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt

from desktop.api_client import ApiClient
from desktop.main_window import MainWindow
from desktop.settings import Settings
from tests.desktop.helpers import WAIT_MS, focus, open_chat, put_another_window_in_front, wait_idle


def _pick_model(qtbot, window: MainWindow, name: str) -> None:  # noqa: ANN001
    combo = window.model_combo
    combo.showPopup()
    rect = combo.view().visualRect(combo.model().index(combo.findText(name), 0))
    qtbot.mouseClick(combo.view().viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def _set_temperature(qtbot, window: MainWindow, text: str) -> None:  # noqa: ANN001
    spin = window.temperature_spin
    spin.selectAll()
    qtbot.keyClicks(spin, text)
    qtbot.keyClick(spin, Qt.Key.Key_Tab)


def _turn(qtbot, window: MainWindow, fake_ollama) -> dict:  # noqa: ANN001
    """Send a turn; the request the provider got."""
    window.composer.edit.setPlainText("Once more")
    qtbot.mouseClick(window.composer.button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not window.session.busy, timeout=WAIT_MS)
    wait_idle(qtbot, window)
    return fake_ollama.requests[-1].json


def test_each_chat_keeps_its_model_and_temperature(
    qtbot,
    open_window: Callable[[Settings], MainWindow],
    remote_settings: Settings,
    make_settings: Callable[[], Settings],
    live_server,
    admin_key: str,
    fake_ollama,  # noqa: ANN001
) -> None:
    api = ApiClient(live_server.url, admin_key)
    api.chat("About otters", chat_id="otters")
    api.chat("About herons", chat_id="herons")
    window = open_window(remote_settings)
    first, second = fake_ollama.models[:2]
    open_chat(qtbot, window, "otters")
    _pick_model(qtbot, window, second)
    _set_temperature(qtbot, window, "0.3")
    sent = _turn(qtbot, window, fake_ollama)
    assert sent["model"] == second and sent["options"]["temperature"] == 0.3
    open_chat(qtbot, window, "herons")
    _pick_model(qtbot, window, first)
    assert window.temperature_spin.value() == 0.3  # a chat without its own goes on with these
    for _ in range(4):  # 0.2, 0.1, 0.0, then the model's default
        qtbot.keyClick(window.temperature_spin, Qt.Key.Key_Down)
    assert window.temperature_spin.text() == "Default"
    sent = _turn(qtbot, window, fake_ollama)
    assert sent["model"] == first and "temperature" not in sent.get("options", {})
    open_chat(qtbot, window, "otters")
    assert window.model_combo.currentText() == second
    assert window.temperature_spin.value() == 0.3
    assert make_settings().chat_options("otters") == (second, 0.3)
    assert make_settings().chat_options("herons") == (first, None)
    api.close()


def test_a_reply_that_ends_in_the_background_is_announced(
    qtbot,
    window: MainWindow,
    fake_ollama,  # noqa: ANN001
) -> None:
    put_another_window_in_front(qtbot)
    assert not window.isActiveWindow()
    with qtbot.waitSignal(window.notifier.notified, timeout=WAIT_MS) as shown:
        window.session.send("Tell me when it is done")
    assert shown.args == ["Reply in “Tell me when it is done”", "Hello world!"]
    wait_idle(qtbot, window)
    focus(qtbot, window.composer.edit)
    with qtbot.assertNotEmitted(window.notifier.notified):
        window.session.send("And now, while I watch")
        qtbot.waitUntil(lambda: not window.session.busy, timeout=WAIT_MS)
        wait_idle(qtbot, window)
