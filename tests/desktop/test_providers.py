"""Local mode's providers in Settings (SPEC 17, 15): checked with a Test button, kept in the
keyring, and handed to the embedded server as a providers file, environment and variables."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt

from desktop.dialogs.settings import SettingsDialog
from desktop.main_window import MainWindow
from desktop.providers import KEY_VARIABLES, ProviderSettings, providers_toml, server_config
from desktop.settings import Connection, Settings
from desktop.theme import ThemeManager
from desktop.workers import WorkerPool
from tests.desktop.helpers import WAIT_MS, close_window, wait_idle

DEAD = "http://127.0.0.1:9"  # the discard port: nothing listens there


@pytest.fixture(autouse=True)
def clean_key_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """The local server puts keys in this process's environment: restore it afterwards."""
    for variable in KEY_VARIABLES.values():
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture
def dialog(qtbot, settings: Settings) -> Iterator[SettingsDialog]:  # noqa: ANN001
    pool = WorkerPool()
    settings.set_connection(Connection("local"))
    dialog = SettingsDialog(settings, pool)
    qtbot.addWidget(dialog)
    dialog.show()
    yield dialog
    pool.shutdown()


def _test(qtbot, dialog: SettingsDialog, name: str) -> str:  # noqa: ANN001
    qtbot.mouseClick(dialog.test_buttons[name], Qt.MouseButton.LeftButton)
    result = dialog.results[name]
    qtbot.waitUntil(lambda: result.text()[:1] in ("✓", "✗"), timeout=WAIT_MS)
    qtbot.waitUntil(dialog.test_buttons[name].isEnabled, timeout=WAIT_MS)
    return result.text()


def _type(qtbot, edit, text: str) -> None:  # noqa: ANN001
    edit.clear()
    qtbot.keyClicks(edit, text)


def _listed(window: MainWindow, model: str) -> str | None:
    """The picker's name for `model`: bare, or `<provider>/<model>` with a providers file."""
    names = [window.model_combo.itemText(i) for i in range(window.model_combo.count())]
    return next((name for name in names if name.split("/")[-1] == model), None)


def test_the_providers_file_is_spec_15_toml_without_keys(tmp_path: Path) -> None:
    providers = ProviderSettings("http://ollama.test:11434", "http://llm.test/v1", "sk-1", "ak-2")
    config = server_config(providers, tmp_path)
    text = (tmp_path / "providers.toml").read_text()
    assert config["PROVIDERS_FILE"] == str(tmp_path / "providers.toml")
    assert "sk-1" not in text and "ak-2" not in text
    assert tomllib.loads(text) == {
        "providers": {
            "ollama": {"type": "ollama", "base_url": "http://ollama.test:11434"},
            "openai": {
                "type": "openai",
                "base_url": "http://llm.test/v1",
                "api_key_env": KEY_VARIABLES["openai"],
            },
            "anthropic": {
                "type": "anthropic",
                "base_url": "https://api.anthropic.com",
                "api_key_env": KEY_VARIABLES["anthropic"],
            },
        }
    }
    # A server without PROVIDERS_FILE reads the first provider from the SPEC 3 variables.
    assert config["LLM_PROVIDER"] == "ollama"
    assert config["OLLAMA_HOST"] == "http://ollama.test:11434"
    assert (config["OPENAI_BASE_URL"], config["OPENAI_API_KEY"]) == ("http://llm.test/v1", "sk-1")
    assert config["ANTHROPIC_API_KEY"] == "ak-2"
    assert config["RATELIMIT_ENABLED"] is False  # one user


def test_the_first_provider_set_is_the_default_and_blank_ones_are_left_out(
    tmp_path: Path,
) -> None:
    providers = ProviderSettings(ollama_host="", openai_key="sk-1")
    config = server_config(providers, tmp_path)
    assert config["LLM_PROVIDER"] == "openai" and "OLLAMA_HOST" not in config
    assert list(tomllib.loads(providers_toml(providers))["providers"]) == ["openai"]
    assert server_config(ProviderSettings(), tmp_path) == {"RATELIMIT_ENABLED": False}
    keyless = tomllib.loads(providers_toml(ProviderSettings(openai_url="http://llm.test/v1")))
    assert "api_key_env" not in keyless["providers"]["openai"]  # no key: no variable named


def test_test_reports_the_models_of_a_reachable_provider_and_the_error_of_another(
    qtbot,
    dialog: SettingsDialog,
    fake_ollama,
    fake_openai,  # noqa: ANN001
) -> None:
    _type(qtbot, dialog.ollama_edit, fake_ollama.url)
    assert _test(qtbot, dialog, "ollama").startswith("✓ Reachable: 2 models (llama3.1")
    _type(qtbot, dialog.ollama_edit, DEAD)
    assert _test(qtbot, dialog, "ollama").startswith("✗ ")
    fake_openai.api_key = "sk-right"
    _type(qtbot, dialog.openai_url_edit, fake_openai.url)
    _type(qtbot, dialog.openai_key_edit, "sk-wrong")
    assert _test(qtbot, dialog, "openai").startswith("✗ ")
    _type(qtbot, dialog.openai_key_edit, "sk-right")
    assert "gpt-4o-mini" in _test(qtbot, dialog, "openai")
    assert _test(qtbot, dialog, "anthropic") == "✗ Enter a key first"


def test_provider_keys_stay_out_of_the_settings_file_with_a_keyring(
    settings_file: Path,
    memory_keyring,  # noqa: ANN001
    tmp_path: Path,
) -> None:
    qsettings = QSettings(str(settings_file), QSettings.Format.IniFormat)
    settings = Settings(qsettings, use_keyring=True, data_path=tmp_path)
    settings.set_providers(ProviderSettings("http://o.test", "http://x.test/v1", "sk-9", "ak-9"))
    assert "sk-9" not in settings_file.read_text() and "ak-9" not in settings_file.read_text()
    assert settings.providers() == ProviderSettings(
        "http://o.test", "http://x.test/v1", "sk-9", "ak-9"
    )
    settings.set_providers(ProviderSettings("http://o.test"))
    assert settings.providers().openai_key == "" and not memory_keyring.secrets.get(
        ("chatapp-desktop", "provider:openai")
    )


def test_saved_providers_restart_the_local_server_with_them(
    qtbot,
    themes: ThemeManager,
    settings: Settings,
    fake_openai,  # noqa: ANN001
    tmp_path: Path,
) -> None:
    fake_openai.api_key = "sk-local"
    settings.set_connection(Connection("local"))
    settings.set_providers(ProviderSettings(ollama_host=DEAD))
    window = MainWindow(settings, themes)
    window.show()
    window.connection.connect_to(Connection("local", api_key=settings.local_api_key()))
    qtbot.waitUntil(lambda: window.status.connection_label.property("state") == "connected")
    wait_idle(qtbot, window)
    dialog = window.open_settings()
    _type(qtbot, dialog.ollama_edit, "")
    _type(qtbot, dialog.openai_url_edit, fake_openai.url)
    _type(qtbot, dialog.openai_key_edit, "sk-local")
    qtbot.mouseClick(dialog.save_providers_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: _listed(window, "gpt-4o-mini") is not None, timeout=WAIT_MS)
    wait_idle(qtbot, window)
    toml = tomllib.loads((tmp_path / "data" / "providers.toml").read_text())
    assert toml["providers"]["openai"]["api_key_env"] == KEY_VARIABLES["openai"]
    assert os.environ[KEY_VARIABLES["openai"]] == "sk-local"
    assert "sk-local" not in (tmp_path / "data" / "providers.toml").read_text()
    window.model_combo.setCurrentText(_listed(window, "gpt-4o-mini") or "")
    window.model_combo.activated.emit(window.model_combo.currentIndex())
    for turn in range(35):  # more than CHAT_RATE_LIMIT's 30 a minute: local mode has none
        window.session.send(f"turn {turn}")
        qtbot.waitUntil(lambda: not window.session.busy, timeout=WAIT_MS)
        wait_idle(qtbot, window)
    assert not window.banner.isVisible()
    assert window.session.messages.message(1).content == "Hello world!"
    assert window.status.rate_label.text() == ""  # no "Requests left"
    close_window(window)
