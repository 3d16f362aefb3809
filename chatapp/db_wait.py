"""A client-side deadline on every PostgreSQL call of the serving process.

A frozen PostgreSQL (stopped by a signal, a stuck disk) still has its kernel accept connections
and acknowledge packets, so neither libpq's connect_timeout, TCP keepalives nor the server's own
statement_timeout ever fire (REFERENCE.md, "A frozen database"). psycopg2 lets the program do
the waiting (`set_wait_callback`); ours gives up at the deadline. psycopg2 then closes that
connection, SQLAlchemy sees a closed connection as a disconnect and replaces it, and the error
becomes a 503 `database_unavailable`. Service resumes by itself when the server does.

Only the serving process installs it (server_process): migrations, the start-up lock and the
CLI keep plain blocking calls, since a long migration is not a stuck request.
"""

from __future__ import annotations

import select
import time
from collections.abc import Callable
from typing import Any

import psycopg2
from psycopg2 import extensions

CONNECT_TIMEOUT_SECONDS = 5  # SPEC 13
# The client waits this much past statement_timeout, so that a slow or blocked statement is
# cancelled by the server first and keeps its connection; only a silent server loses it.
SERVER_FIRST_SECONDS = 0.5
# Waits until the descriptor is ready for the given poll state, or `timeout` seconds pass.
Waiter = Callable[[int, int, float | None], None]


class DeadlineExceeded(psycopg2.OperationalError):
    """The database did not answer in time; psycopg2 closes the connection it was on."""


def install(statement_timeout: float, cooperative: bool) -> None:
    """Bound each connect by CONNECT_TIMEOUT_SECONDS and each later call by `statement_timeout`
    (0: unbounded) plus SERVER_FIRST_SECONDS; `cooperative` waits through gevent's hub."""
    call_timeout = statement_timeout + SERVER_FIRST_SECONDS if statement_timeout > 0 else None
    waiter = _gevent_waiter() if cooperative else _poll_waiter
    extensions.set_wait_callback(wait_callback(CONNECT_TIMEOUT_SECONDS, call_timeout, waiter))


def wait_callback(
    connect_timeout: float, call_timeout: float | None, waiter: Waiter
) -> Callable[[Any], None]:
    """psycopg2's wait loop (psycopg2.extras.wait_select), with a deadline."""

    def wait(connection: Any) -> None:
        limit = connect_timeout if connection.status == extensions.STATUS_SETUP else call_timeout
        deadline = None if limit is None else time.monotonic() + limit
        while (state := connection.poll()) != extensions.POLL_OK:
            if state not in (extensions.POLL_READ, extensions.POLL_WRITE):
                raise psycopg2.OperationalError(f"Bad result from poll: {state!r}")
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise DeadlineExceeded(f"the database did not answer within {limit:g} s")
            waiter(connection.fileno(), state, remaining)

    return wait


def _poll_waiter(fd: int, state: int, timeout: float | None) -> None:
    """poll(2), which unlike select(2) takes descriptors past 1024."""
    poller = select.poll()
    poller.register(fd, select.POLLIN if state == extensions.POLL_READ else select.POLLOUT)
    poller.poll(None if timeout is None else timeout * 1000)


def _gevent_waiter() -> Waiter:
    from gevent.socket import wait_read, wait_write

    def wait(fd: int, state: int, timeout: float | None) -> None:
        try:
            (wait_read if state == extensions.POLL_READ else wait_write)(fd, timeout)
        except TimeoutError:  # gevent's socket.timeout: the loop checks the deadline
            pass

    return wait
