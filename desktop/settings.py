"""The one typed wrapper over QSettings, with API keys in the system keyring when there is one."""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from PySide6.QtCore import QByteArray, QSettings, QStandardPaths

log = logging.getLogger(__name__)

KEYRING_SERVICE = "chatapp-desktop"
LOCAL_KEY_NAME = "local"
DEFAULT_OLLAMA_HOST = "http://127.0.0.1:11434"

Mode = Literal["local", "remote"]
Theme = Literal["system", "light", "dark"]
THEMES: tuple[Theme, ...] = ("system", "light", "dark")


@dataclass(frozen=True)
class Connection:
    """Where the app talks to: the embedded server, or a remote one with its key."""

    mode: Mode
    url: str = ""
    api_key: str = ""


def ollama_host() -> str:
    """Ollama's own variable, with Ollama's own default."""
    return os.environ.get("OLLAMA_HOST") or DEFAULT_OLLAMA_HOST


def new_api_key() -> str:
    return "ck_" + secrets.token_urlsafe(32)


class Settings:
    """Typed access to everything the app remembers between runs."""

    def __init__(
        self,
        qsettings: QSettings | None = None,
        use_keyring: bool = True,
        data_path: Path | None = None,
    ) -> None:
        self._qs = qsettings or QSettings()
        self._use_keyring = use_keyring
        self._data_path = data_path

    def data_dir(self) -> Path:
        """Where local mode keeps its database: AppDataLocation unless given; created."""
        location = QStandardPaths.StandardLocation.AppDataLocation
        path = self._data_path or Path(QStandardPaths.writableLocation(location))
        path.mkdir(parents=True, exist_ok=True)
        return path

    def sync(self) -> None:
        self._qs.sync()

    def file_name(self) -> str:
        return self._qs.fileName()

    # The secret store
    def keyring_available(self) -> bool:
        if not self._use_keyring:
            return False
        import keyring

        # The fail and null backends have priority 0 or less: no real keyring on this machine.
        return float(getattr(keyring.get_keyring(), "priority", 0)) > 0

    def _read_key(self, name: str) -> str:
        if self.keyring_available():
            import keyring
            from keyring.errors import KeyringError

            try:
                secret = keyring.get_password(KEYRING_SERVICE, name)
            except KeyringError:
                log.warning("The keyring could not be read; using the settings file")
            else:
                if secret:
                    return secret
        return str(self._qs.value(f"keys/{name}", "") or "")

    def _write_key(self, name: str, secret: str) -> bool:
        """Store a key; True when it went to the keyring, False when to the settings file."""
        if self.keyring_available():
            import keyring
            from keyring.errors import KeyringError

            try:
                keyring.set_password(KEYRING_SERVICE, name, secret)
            except KeyringError:
                log.warning("The keyring could not be written; using the settings file")
            else:
                self._qs.remove(f"keys/{name}")
                return True
        self._qs.setValue(f"keys/{name}", secret)
        return False

    @property
    def key_in_keyring(self) -> bool:
        return bool(self._qs.value("connection/key_in_keyring", False, type=bool))

    # The connection
    def connection(self) -> Connection | None:
        mode = self._qs.value("connection/mode", "")
        if mode == "local":
            return Connection("local", api_key=self.local_api_key())
        if mode == "remote":
            url = str(self._qs.value("connection/url", ""))
            return Connection("remote", url, self._read_key(url))
        return None

    def set_connection(self, connection: Connection) -> bool:
        """Save the choice; True when the key is in the keyring rather than the settings file."""
        self._qs.setValue("connection/mode", connection.mode)
        if connection.mode == "local":
            in_keyring = self._write_key(LOCAL_KEY_NAME, self.local_api_key())
        else:
            self._qs.setValue("connection/url", connection.url)
            in_keyring = self._write_key(connection.url, connection.api_key)
        self._qs.setValue("connection/key_in_keyring", in_keyring)
        self._qs.sync()
        return in_keyring

    def local_api_key(self) -> str:
        """The embedded server's admin key: made once, then kept like a remote key."""
        key = self._read_key(LOCAL_KEY_NAME)
        if not key:
            key = new_api_key()
            self._write_key(LOCAL_KEY_NAME, key)
        return key

    # Appearance
    @property
    def theme(self) -> Theme:
        value = str(self._qs.value("ui/theme", "system"))
        return value if value in THEMES else "system"  # type: ignore[return-value]

    @theme.setter
    def theme(self, value: Theme) -> None:
        self._qs.setValue("ui/theme", value)

    @property
    def font_size(self) -> int:
        return int(self._qs.value("ui/font_size", 0, type=int))

    @font_size.setter
    def font_size(self, value: int) -> None:
        self._qs.setValue("ui/font_size", value)

    # Window state
    @property
    def geometry(self) -> QByteArray:
        return QByteArray(self._qs.value("window/geometry", QByteArray()))

    @geometry.setter
    def geometry(self, value: QByteArray) -> None:
        self._qs.setValue("window/geometry", value)

    @property
    def splitter_state(self) -> QByteArray:
        return QByteArray(self._qs.value("window/splitter", QByteArray()))

    @splitter_state.setter
    def splitter_state(self, value: QByteArray) -> None:
        self._qs.setValue("window/splitter", value)

    # Session
    @property
    def last_chat_id(self) -> str:
        return str(self._qs.value("session/last_chat", "") or "")

    @last_chat_id.setter
    def last_chat_id(self, value: str) -> None:
        self._qs.setValue("session/last_chat", value)

    @property
    def model(self) -> str:
        return str(self._qs.value("session/model", "") or "")

    @model.setter
    def model(self, value: str) -> None:
        self._qs.setValue("session/model", value)

    @property
    def temperature(self) -> float | None:
        """The temperature for new chats; None: the model's default."""
        return _temperature(self._qs.value("session/temperature", ""))

    @temperature.setter
    def temperature(self, value: float | None) -> None:
        self._qs.setValue("session/temperature", "" if value is None else value)

    # Per chat
    def chat_options(self, chat_id: str) -> tuple[str, float | None] | None:
        """The model and temperature last used in this chat; None if it has none yet."""
        model = str(self._qs.value(f"chats/{chat_id}/model", "") or "")
        if not model:
            return None
        return model, _temperature(self._qs.value(f"chats/{chat_id}/temperature", ""))

    def set_chat_options(self, chat_id: str, model: str, temperature: float | None) -> None:
        self._qs.setValue(f"chats/{chat_id}/model", model)
        value = "" if temperature is None else temperature
        self._qs.setValue(f"chats/{chat_id}/temperature", value)

    def forget_chat(self, chat_id: str) -> None:
        self._qs.remove(f"chats/{chat_id}")


def _temperature(value: object) -> float | None:
    try:
        return float(str(value)) if value not in (None, "") else None
    except ValueError:
        return None
