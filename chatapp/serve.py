"""`chatapp serve`: gunicorn around the app factory, with gevent (default) or gthread workers."""

from __future__ import annotations

import json
import os
import sys
from typing import Any

from gunicorn.app.base import BaseApplication

WORKER_CLASSES = ("gevent", "gthread")


class GunicornServer(BaseApplication):
    """Each worker builds its own app, so no database connection crosses a fork."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from chatapp.app import create_app

        return create_app()


def gunicorn_options(
    host: str, port: int, workers: int, worker_class: str, threads: int, connections: int,
    timeout: float,
) -> dict[str, Any]:  # fmt: skip
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        # gevent: a stream or a slow client costs a greenlet, not one of a few threads.
        "worker_class": worker_class,
        "threads": threads,
        "worker_connections": connections,
        # A gthread stream must outlive the worker timeout; gevent's heartbeat runs regardless.
        "timeout": int(timeout) + 30,
        "graceful_timeout": 30,
        "keepalive": 5,
        "accesslog": "-",
        # One fixed control-socket path would collide between instances on one host.
        "control_socket_disable": True,
    }


def exec_server(options: dict[str, Any]) -> None:
    """Replace this process with a fresh interpreter that serves (see server_process)."""
    sys.stdout.flush()
    sys.stderr.flush()
    command = [sys.executable, "-m", "chatapp.server_process", json.dumps(options)]
    os.execv(sys.executable, command)


def run_gunicorn(options: dict[str, Any]) -> None:
    GunicornServer(options).run()
