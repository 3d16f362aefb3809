"""The connection: the API client (or the local server behind it), its state and its failures."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from desktop.api_client import ApiClient
from desktop.api_types import ApiClientError, Me
from desktop.errors import ErrorInfo
from desktop.jobs import ApiJobs, Job, Work
from desktop.local_server import LocalServer
from desktop.settings import Connection, Settings
from desktop.workers import WorkerPool


class ConnectionController(QObject):
    """Owns the workers and the client; tells the other controllers when to load or forget."""

    connection_state = Signal(str, str)  # "connecting" | "connected" | "offline" | "unauthorized"
    error = Signal(object)  # ErrorInfo
    rate_limit_changed = Signal(object)  # RateLimit
    reload_requested = Signal()  # a client is ready: load everything the window shows
    dropped = Signal()  # the client is going: forget everything it loaded
    me_loaded = Signal(object)  # Me: who the key belongs to (the Admin menu needs is_admin)

    RECHECK_MS = 5000  # while offline, how often to ask whether the server is back

    def __init__(self, settings: Settings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.pool = WorkerPool(parent=self)
        self.jobs = ApiJobs(self.pool, self)
        self.jobs.failed.connect(self._on_failed)
        self.jobs.rate_limit_changed.connect(self.rate_limit_changed)
        self.local_server: LocalServer | None = None
        self.state = "connecting"
        self._where = ""
        self._checking = False
        self._recheck = QTimer(self)
        self._recheck.setInterval(self.RECHECK_MS)
        self._recheck.timeout.connect(self._check_back)
        self.connection_state.connect(self._on_state)

    def retry(self) -> None:
        self.jobs.retry()

    def _on_failed(self, info: ErrorInfo) -> None:
        if info.kind == "offline":
            self.connection_state.emit("offline", "Offline")
        elif info.kind == "unauthorized":
            self.connection_state.emit("unauthorized", f"Key not accepted by {self._where}")
        self.error.emit(info)

    def _on_state(self, state: str) -> None:
        self.state = state
        if state == "offline":
            self._recheck.start()
        else:
            self._recheck.stop()

    def _check_back(self) -> None:
        """A quiet check while offline: no banner when it fails; when the server answers,
        the window shows "connected" and reloads what it missed."""
        client = self.jobs.client
        if client is None or self._checking:
            return  # not set up yet, or the last check still waits for an answer
        self._checking = True
        self.pool.start(
            lambda worker: _me_if_up(client),
            self._on_back,
            name="Checking the server",
            on_created=lambda worker: worker.signals.finished.connect(self._check_ended),
        )

    def _check_ended(self) -> None:
        self._checking = False

    def _on_back(self, me: Me | None) -> None:
        if me is not None and self.state == "offline":
            self._on_me(me)
            self.reload_requested.emit()

    def connect_to(self, connection: Connection) -> None:
        """Drop any current connection and start the new one (the local server off-thread)."""
        if connection.mode == "remote":
            self._disconnect()
            self._attach(connection.url, connection.api_key)
            return
        key = connection.api_key
        self.jobs.start(
            lambda: self._start_local(key),
            lambda started: self._attach(started[0], key, started[1]),
            "Starting the local server",
        )

    def _start_local(self, key: str) -> Work:
        """A fresh local server on each attempt, started off the GUI thread."""
        self._disconnect()
        self.connection_state.emit("connecting", "Starting the local server…")
        server = LocalServer(self.settings.data_dir(), key, self.settings.providers())
        return lambda worker: (server.start(), server)

    def _attach(self, url: str, key: str, server: LocalServer | None = None) -> None:
        self.local_server = server
        self.jobs.client = ApiClient(url, key)
        self._where = url if server is None else "local server"
        self.refresh()

    def refresh(self) -> None:
        """Check the key and load everything the window shows."""
        self.jobs.run_planned(self._check_key, self._on_me, "Connecting", latest="me")
        self.reload_requested.emit()

    def _check_key(self) -> Job:
        self.connection_state.emit("connecting", f"Connecting to {self._where}…")
        return lambda client, worker: client.me()

    def _on_me(self, me: Me) -> None:
        self.connection_state.emit("connected", f"{me.username} @ {self._where}")
        self.me_loaded.emit(me)

    def _disconnect(self) -> None:
        self.dropped.emit()
        if self.jobs.client is not None:
            self.jobs.client.close()
            self.jobs.client = None
        if self.local_server is not None:
            self.local_server.stop()
            self.local_server = None

    def shutdown(self) -> None:
        """Cancel and wait for every worker, then stop the local server: called on quit."""
        self.dropped.emit()
        self.pool.shutdown()
        self._disconnect()


def _me_if_up(client: ApiClient) -> Me | None:
    """The user, or None while the server is still down: expected, so not logged."""
    try:
        return client.me()
    except ApiClientError:
        return None
