"""The embedded chatapp server of local mode: SQLite in the data directory, on a free local port."""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from flask import Flask
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from desktop.providers import ProviderSettings, key_environment, server_config

log = logging.getLogger(__name__)


class _QuietHandler(WSGIRequestHandler):
    """No access log line per request on the desktop user's terminal."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        return


class LocalServer:
    """A chatapp app served on 127.0.0.1 from a daemon thread until `stop()`: one user, so
    no rate limits, and the providers set in Settings."""

    def __init__(self, data_dir: Path, api_key: str, providers: ProviderSettings) -> None:
        self.data_dir = data_dir
        self._api_key = api_key
        self._providers = providers
        self._server: BaseWSGIServer | None = None
        self._app: Flask | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("The local server is not running")
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> str:
        """Build the app, bring its database up to date, serve it; return its URL. Blocks."""
        from chatapp import create_app
        from chatapp.startup import prepare

        self.data_dir.mkdir(parents=True, exist_ok=True)
        # The server runs in this process: its environment is ours. Keys go there, never
        # in the providers file.
        for variable, key in key_environment(self._providers).items():
            if key is None:
                os.environ.pop(variable, None)
            else:
                os.environ[variable] = key
        app = create_app(
            {
                "DATABASE_URL": f"sqlite:///{self.data_dir / 'chatapp.db'}",
                "API_KEY": self._api_key,
                "LEGACY_IMPORT_ON_START": False,
                **server_config(self._providers, self.data_dir),
            }
        )
        prepare(app)
        self._app = app
        self._server = make_server(
            "127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler
        )
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},  # how long stop() waits for the loop to notice
            name="chatapp-local-server",
            daemon=True,
        )
        self._thread.start()
        log.info("Local server on %s, data in %s", self.url, self.data_dir)
        return self.url

    def stop(self) -> None:
        """Stop serving and wait for the serving thread; safe to call twice."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self._app is not None:
            from chatapp.extensions import db

            with self._app.app_context():
                db.engine.dispose()  # closes the SQLite file cleanly
        log.info("Local server stopped")
