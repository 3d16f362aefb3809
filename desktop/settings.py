"""The one typed wrapper over QSettings, with API keys in the system keyring when there is one."""

from __future__ import annotations

import logging
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from PySide6.QtCore import QByteArray, QSettings, QStandardPaths

from desktop.providers import KEY_VARIABLES, ProviderSettings

log = logging.getLogger(__name__)

KEYRING_SERVICE = "chatapp-desktop"
LOCAL_KEY_NAME = "local"
DEFAULT_OLLAMA_HOST = "http://127.0.0.1:11434"

Mode = Literal["local", "remote"]
Theme = Literal["system", "light", "dark"]
THEMES: tuple[Theme, ...] = ("system", "light", "dark")
_PROVIDER_KEY = "provider:{}"  # the keyring entry of a provider's key


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
        self._restrict()  # also a file an older version left readable by all

    def data_dir(self) -> Path:
        """Where local mode keeps its database: AppDataLocation unless given; created."""
        location = QStandardPaths.StandardLocation.AppDataLocation
        path = self._data_path or Path(QStandardPaths.writableLocation(location))
        path.mkdir(parents=True, exist_ok=True)
        return path

    def sync(self) -> None:
        self._restrict()
        self._qs.sync()
        self._restrict()

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
        """Store a key (an empty one: forget it); True when it went to the keyring, False
        when to the settings file, which is then made readable by its owner only."""
        if self.keyring_available():
            import keyring
            from keyring.errors import KeyringError

            try:
                if secret:
                    keyring.set_password(KEYRING_SERVICE, name, secret)
                elif keyring.get_password(KEYRING_SERVICE, name) is not None:
                    keyring.delete_password(KEYRING_SERVICE, name)
            except KeyringError:
                log.warning("The keyring could not be written; using the settings file")
            else:
                self._qs.remove(f"keys/{name}")
                return True
        if secret:
            self._qs.setValue(f"keys/{name}", secret)
        else:
            self._qs.remove(f"keys/{name}")
        self.sync()
        return False

    def _restrict(self) -> None:
        """Make the settings file 0600 while it holds a key. Done before Qt writes the file:
        Qt keeps the mode of the file it replaces."""
        if "keys" not in self._qs.childGroups():
            return
        path = Path(self.file_name())
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600, exist_ok=True)
        path.chmod(0o600)

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
        self.sync()
        return in_keyring

    def local_api_key(self) -> str:
        """The embedded server's admin key: made once, then kept like a remote key."""
        key = self._read_key(LOCAL_KEY_NAME)
        if not key:
            key = new_api_key()
            self._write_key(LOCAL_KEY_NAME, key)
        return key

    # Local mode's providers
    def providers(self) -> ProviderSettings:
        """What Settings shows; Ollama at OLLAMA_HOST until the user says otherwise."""
        return ProviderSettings(
            ollama_host=str(self._qs.value("providers/ollama_host", ollama_host())),
            openai_url=str(self._qs.value("providers/openai_url", "")),
            openai_key=self._read_key(_PROVIDER_KEY.format("openai")),
            anthropic_key=self._read_key(_PROVIDER_KEY.format("anthropic")),
        )

    def set_providers(self, providers: ProviderSettings) -> None:
        self._qs.setValue("providers/ollama_host", providers.ollama_host)
        self._qs.setValue("providers/openai_url", providers.openai_url)
        for name in KEY_VARIABLES:
            self._write_key(_PROVIDER_KEY.format(name), providers.key(name))
        self.sync()

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
