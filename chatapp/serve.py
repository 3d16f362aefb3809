"""`chatapp serve`: gunicorn around the app factory, configured as gunicorn itself is.

gunicorn's settings come from, lowest first: chatapp serve's defaults, a `gunicorn.conf.py` in
the working directory (or the file that GUNICORN_CMD_ARGS's `--config` names),
GUNICORN_CMD_ARGS, and the flags given to chatapp serve. That is gunicorn's own order, with our
defaults at the bottom and our flags as its command line.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from typing import Any

from gunicorn.app.base import Application
from gunicorn.config import get_default_config_file

from chatapp.server_process import ServePlan

WORKER_CLASSES = ("gevent", "gthread")
# Text access log lines as gunicorn's default, plus the request ID; `api_key` is redacted.
ACCESS_LOG_FORMAT = (
    '%(h)s %(l)s %(u)s %(t)s "%(r)s" %(s)s %(b)s "%(f)s" "%(a)s" %({x-request-id}o)s'
)


class GunicornServer(Application):
    """Each worker builds its own app, so no database connection crosses a fork."""

    def __init__(self, defaults: Mapping[str, Any], explicit: Mapping[str, Any]) -> None:
        self.defaults = defaults
        self.explicit = explicit
        super().__init__()

    def init(self, parser: Any, opts: Any, args: Any) -> None:
        """Unused: load_config below replaces the command-line parsing that calls it."""

    def load_config(self) -> None:
        """gunicorn's Application.load_config, with `explicit` for its command line."""
        environment = self.cfg.parser().parse_args(self.cfg.get_cmd_args_from_env())
        self._set_all(self.defaults)
        config_file = environment.config or get_default_config_file()
        if config_file:
            self.load_config_from_file(config_file)
        self._set_all({name: value for name, value in vars(environment).items()
                       if value is not None and name != "args"})  # fmt: skip
        self._set_all(self.explicit)
        self.chdir()

    def _set_all(self, settings: Mapping[str, Any]) -> None:
        for name, value in settings.items():
            self.cfg.set(name.lower(), value)

    def load(self) -> Any:
        from chatapp.app import create_app

        return create_app()


def gunicorn_settings(flags: Mapping[str, Any], timeout: float, log_format: str) -> dict[str, Any]:
    """chatapp serve's flags (`host`, `port`, `workers`, ...) and defaults as gunicorn settings."""
    json_logs = log_format == "json"
    return {
        "bind": f"{flags['host']}:{flags['port']}",
        "workers": flags["workers"],
        # gevent: a stream or a slow client costs a greenlet, not one of a few threads.
        "worker_class": flags["worker_class"],
        "threads": flags["threads"],
        "worker_connections": flags["worker_connections"],
        # A gthread stream must outlive the worker timeout; gevent's heartbeat runs regardless.
        "timeout": int(timeout) + 30,
        "graceful_timeout": 30,
        "keepalive": 5,
        "accesslog": "-",
        "access_log_format": ACCESS_LOG_FORMAT,
        "logger_class": f"chatapp.gunicorn_logging.{'Json' if json_logs else ''}GunicornLogger",
        # One fixed control-socket path would collide between instances on one host.
        "control_socket_disable": True,
        # The workers' shared Prometheus directory (chatapp.gunicorn_hooks).
        "child_exit": "chatapp.gunicorn_hooks.child_exit",
        "on_exit": "chatapp.gunicorn_hooks.on_exit",
    }


def given_settings(settings: Mapping[str, Any], given_flags: set[str]) -> dict[str, Any]:
    """The settings that flags given on the command line decide."""
    names = {"bind" if flag in ("host", "port") else flag for flag in given_flags}
    return {name: settings[name] for name in names if name in settings}


def serve_plan(
    defaults: dict[str, Any], explicit: dict[str, Any], statement_timeout: float
) -> ServePlan:
    """Resolve the settings here, as the serving process will, to learn the worker class."""
    from gunicorn.workers.ggevent import GeventWorker  # imports gevent: only when serving

    worker_class = GunicornServer(defaults, explicit).cfg.worker_class
    return ServePlan(defaults, explicit, issubclass(worker_class, GeventWorker), statement_timeout)


def exec_server(plan: ServePlan) -> None:
    """Replace this process with a fresh interpreter that serves (see server_process)."""
    sys.stdout.flush()
    sys.stderr.flush()
    command = [sys.executable, "-m", "chatapp.server_process", plan.to_json()]
    os.execv(sys.executable, command)
