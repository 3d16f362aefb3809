"""`chatapp serve`: gunicorn with gthread workers around the app factory."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from chatapp.app import create_app


class GunicornServer(BaseApplication):
    """Each worker builds its own app, so no database connection crosses a fork."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return create_app()


def gunicorn_options(host: str, port: int, workers: int, threads: int, timeout: float) -> dict:
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        # gthread: streams don't block other requests and aren't killed by the worker timeout.
        "worker_class": "gthread",
        "timeout": int(timeout) + 30,
        "graceful_timeout": 30,
        "keepalive": 5,
        "accesslog": "-",
        # One fixed control-socket path would collide between instances on one host.
        "control_socket_disable": True,
    }


def run_gunicorn(options: dict[str, Any]) -> None:
    GunicornServer(options).run()
