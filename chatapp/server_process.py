"""The process that serves: patched for gevent before anything else is imported, then gunicorn.

`chatapp serve` prepares the database in its own process, which has imported flask, requests
and ssl by then, and replaces itself with this one. Patching gevent into a process that already
imported ssl breaks TLS (REFERENCE.md, "gevent under gunicorn"); a fresh interpreter patches
first, and the workers it forks inherit the patched modules.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict, dataclass
from typing import Any


@dataclass(frozen=True)
class ServePlan:
    """What `chatapp serve` hands this process, as JSON on its command line."""

    defaults: dict[str, Any]  # gunicorn settings under gunicorn.conf.py and GUNICORN_CMD_ARGS
    explicit: dict[str, Any]  # the flags given to chatapp serve: above everything else
    cooperative: bool  # the resolved worker class is gevent's
    statement_timeout: float  # DB_STATEMENT_TIMEOUT, for the client-side deadline

    def to_json(self) -> str:
        return json.dumps(asdict(self))


def patch_for_gevent() -> None:
    """Cooperative sockets, threads and queues (psycopg2 waits through chatapp.db_wait)."""
    from gevent import monkey

    monkey.patch_all()


def main(argv: list[str]) -> None:
    plan = ServePlan(**json.loads(argv[1]))
    if plan.cooperative:
        patch_for_gevent()
    from chatapp import db_wait  # only now: see the module docstring
    from chatapp.gunicorn_hooks import prepare_metrics_dir
    from chatapp.serve import GunicornServer

    prepare_metrics_dir()  # before the workers fork and import prometheus_client

    db_wait.install(plan.statement_timeout, plan.cooperative)
    GunicornServer(plan.defaults, plan.explicit).run()


if __name__ == "__main__":
    main(sys.argv)
