"""The process that serves: patched for gevent before anything else is imported, then gunicorn.

`chatapp serve` prepares the database in its own process, which has imported flask, requests
and ssl by then, and replaces itself with this one. Patching gevent into a process that already
imported ssl breaks TLS (REFERENCE.md, "gevent under gunicorn"); a fresh interpreter patches
first, and the workers it forks inherit the patched modules.
"""

from __future__ import annotations

import json
import sys


def patch_for_gevent() -> None:
    """Cooperative sockets, threads and queues, and a psycopg2 that yields while it waits."""
    from gevent import monkey

    monkey.patch_all()
    from psycogreen.gevent import patch_psycopg

    patch_psycopg()


def main(argv: list[str]) -> None:
    options = json.loads(argv[1])
    if options["worker_class"] == "gevent":
        patch_for_gevent()
    from chatapp.serve import run_gunicorn  # only now: see the module docstring

    run_gunicorn(options)


if __name__ == "__main__":
    main(sys.argv)
