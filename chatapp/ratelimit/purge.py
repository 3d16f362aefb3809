"""Expired `rate_limits` rows: deleted in small batches by the CLI or a background thread."""

from __future__ import annotations

import logging
import random
import threading
import weakref

from flask import Flask, request_started
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from chatapp.extensions import db
from chatapp.ratelimit.sql import PURGE_BATCH

log = logging.getLogger(__name__)

BATCH_ROWS = 500  # short transactions: a purge never holds locks that requests wait on
JITTER = 0.2  # each process purges at its own rhythm, not all at once


def purge_expired(engine: Engine, batch_rows: int = BATCH_ROWS) -> int:
    """Delete every expired counter, one batch per transaction; return how many went."""
    total = 0
    while True:
        deleted = _purge_batch(engine, batch_rows)
        total += deleted
        if deleted < batch_rows:
            return total


def _purge_batch(engine: Engine, batch_rows: int) -> int:
    with engine.begin() as connection:
        return connection.execute(PURGE_BATCH, {"batch_rows": batch_rows}).rowcount


def purge_in_background(app: Flask, interval: float) -> None:
    """Purge from a daemon thread every `interval` seconds (0 turns it off).

    The thread starts with the app's first request (any request: the signal comes before
    authentication), so CLI commands and gunicorn's master process never run one; the purge
    itself never runs on a request's thread.
    """
    if interval > 0:
        purge = app.extensions["chatapp.rate_limit_purge"] = BackgroundPurge(app, interval)
        request_started.connect(purge.start_once, app)  # held weakly: the app keeps `purge`


class BackgroundPurge:
    """One thread per app; it holds the app weakly and ends when the app is gone."""

    def __init__(self, app: Flask, interval: float) -> None:
        self._app = weakref.ref(app)
        self._interval = interval
        self._stopped = threading.Event()
        self._lock = threading.Lock()
        self.thread: threading.Thread | None = None
        weakref.finalize(app, self._stopped.set)

    def start_once(self, sender: Flask, **extra: object) -> None:
        if self.thread is not None:
            return
        with self._lock:
            if self.thread is None:
                self.thread = threading.Thread(
                    target=self._run, name="rate-limit-purge", daemon=True
                )
                self.thread.start()

    def stop(self) -> None:
        self._stopped.set()

    def _run(self) -> None:
        while not self._stopped.wait(self._interval * random.uniform(1 - JITTER, 1 + JITTER)):
            if not self._purge_once():
                return

    def _purge_once(self) -> bool:
        app = self._app()
        if app is None:
            return False
        with app.app_context():
            try:
                deleted = purge_expired(db.engine)
            except SQLAlchemyError as exc:
                log.warning("rate limit purge failed, will retry: %s", exc)
                return True
        if deleted:
            log.info("purged %d expired rate limit rows", deleted)
        return True
