"""The connection dialog: Local (an embedded server, no set-up) or a remote server with its key."""

from __future__ import annotations

import html

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from desktop.api_client import ApiClient
from desktop.api_types import Me
from desktop.errors import ErrorInfo
from desktop.jobs import ApiJobs
from desktop.settings import Connection, Settings, ollama_host
from desktop.workers import Worker, WorkerPool


class ConnectionDialog(QDialog):
    """Saves the choice on Connect; a remote URL and key are checked with `/me` first."""

    def __init__(self, settings: Settings, pool: WorkerPool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._settings = settings
        self._jobs = ApiJobs(pool, self)  # its client is the one being checked
        self._check: Worker | None = None
        self._setup_ui()
        self._connect_signals()
        self._load(settings.connection())

    def _setup_ui(self) -> None:
        self.setWindowTitle("Connect chatapp")
        self.setMinimumWidth(560)
        intro = QLabel("<b>Where should chatapp run your chats?</b>")
        self.local_radio = QRadioButton("Local: on this computer, nothing to set up")
        self.local_radio.setObjectName("localRadio")
        local_info = QLabel(
            f"A private chatapp server runs inside the app. Chats are kept in "
            f"<code>{self._settings.data_dir()}</code> and replies come from Ollama at "
            f"<code>{self._settings.providers().ollama_host or ollama_host()}</code> "
            f"(other providers: Settings)."
        )
        self.remote_radio = QRadioButton("Remote server: a chatapp server you have a key for")
        self.remote_radio.setObjectName("remoteRadio")
        group = QButtonGroup(self)
        group.addButton(self.local_radio)
        group.addButton(self.remote_radio)
        self.url_edit = QLineEdit()
        self.url_edit.setObjectName("urlEdit")
        self.url_edit.setPlaceholderText("https://chat.example.com")
        self.key_edit = QLineEdit()
        self.key_edit.setObjectName("keyEdit")
        self.key_edit.setPlaceholderText("ck_…")
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.remote_form = QWidget()
        form = QFormLayout(self.remote_form)
        form.setContentsMargins(24, 0, 0, 0)
        form.addRow("Server URL:", self.url_edit)
        form.addRow("API key:", self.key_edit)
        self.notice = QLabel(self._storage_notice())
        self.notice.setObjectName("keyStorageNotice")
        self.status = QLabel()
        self.status.setObjectName("connectionStatus")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.connect_button = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.connect_button.setText("Connect")
        layout = QVBoxLayout(self)
        layout.setSpacing(8)
        for widget in (intro, self.local_radio, local_info, self.remote_radio, self.remote_form):
            layout.addWidget(widget)
        for label in (local_info, self.notice, self.status):
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        local_info.setContentsMargins(24, 0, 0, 6)
        layout.addWidget(self.notice)
        layout.addWidget(self.status)
        layout.addStretch(1)
        layout.addWidget(self.buttons)

    def _connect_signals(self) -> None:
        self.local_radio.toggled.connect(self._update_form)
        self.buttons.accepted.connect(self._on_connect)
        self.buttons.rejected.connect(self.reject)
        self._jobs.failed.connect(self._on_check_failed)

    def _storage_notice(self) -> str:
        if self._settings.keyring_available():
            return "Keys are kept in the system keyring."
        return (
            "No system keyring is available here, so keys are saved in the settings file "
            f"({self._settings.file_name()}). Anyone who can read that file can use them."
        )

    def _load(self, connection: Connection | None) -> None:
        remote = connection is not None and connection.mode == "remote"
        (self.remote_radio if remote else self.local_radio).setChecked(True)
        if remote and connection is not None:
            self.url_edit.setText(connection.url)
            self.key_edit.setText(connection.api_key)
        self._update_form()

    def _update_form(self) -> None:
        self.remote_form.setEnabled(self.remote_radio.isChecked())
        self.status.clear()

    def connection(self) -> Connection:
        if self.local_radio.isChecked():
            return Connection("local")
        return Connection("remote", self.url_edit.text().strip().rstrip("/"), self.key_edit.text())

    def _on_connect(self) -> None:
        connection = self.connection()
        if connection.mode == "local":
            self._save(connection)
            return
        if not connection.url.startswith(("http://", "https://")) or not connection.api_key:
            self.status.setText("Enter the server URL (http:// or https://) and your API key.")
            return
        self.connect_button.setEnabled(False)
        self.status.setText(f"Checking {connection.url}…")
        client = self._jobs.client = ApiClient(connection.url, connection.api_key)
        self._check = self._jobs.run(
            lambda c, w: c.me(),
            lambda me: self._on_checked(connection, me),
            "Checking the server",
            on_start=lambda worker: worker.signals.finished.connect(client.close),
        )

    def _on_checked(self, connection: Connection, me: Me) -> None:
        self._check = None
        self.connect_button.setEnabled(True)
        self.status.setText(f"Signed in as {me.username}.")
        self._save(connection)

    def _on_check_failed(self, info: ErrorInfo) -> None:
        self._check = None
        self.connect_button.setEnabled(True)
        self.status.setText(f'<span style="color:#c0392b">{html.escape(info.message)}</span>')

    def _save(self, connection: Connection) -> None:
        self._settings.set_connection(connection)
        self.accept()

    def reject(self) -> None:
        if self._check is not None:
            self._check.cancel()
            self._check = None
        super().reject()
