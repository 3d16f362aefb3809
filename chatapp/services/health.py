"""The health report: the database checked live, the provider through a short cache."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from functools import partial
from typing import Any

from flask import current_app

from chatapp.database import ping_database
from chatapp.extensions import db
from chatapp.providers import Provider
from chatapp.services import llm

log = logging.getLogger(__name__)

PROBE_KEY = "chatapp.provider_probe"
DATABASE_PROBE_KEY = "chatapp.database_probe"
PROBE_WAIT_SECONDS = 2.0  # /health never waits longer than this on the provider or the database
_probe_lock = threading.Lock()


class Probe:
    """Runs `check` at most once per `ttl` seconds on a daemon thread, waiting at most `wait`.

    A check that overruns the wait keeps running, and later calls wait on that same check rather
    than piling new ones onto a stuck service.
    """

    def __init__(
        self, check: Callable[[], dict[str, Any]], ttl: float, wait: float = PROBE_WAIT_SECONDS
    ) -> None:
        self._check = check
        self._ttl = ttl
        self._wait = wait
        self._lock = threading.Lock()
        self._pending: Future[dict[str, Any]] | None = None
        self._cached: dict[str, Any] | None = None
        self._checked_at = 0.0

    def status(self) -> dict[str, Any]:
        return self.start()()

    def start(self) -> Callable[[], dict[str, Any]]:
        """Begin a check, or join the one under way; call what it returns for the answer."""
        with self._lock:
            if self._cached is not None and time.monotonic() - self._checked_at < self._ttl:
                cached = self._cached
                return lambda: cached
            if self._pending is None or self._pending.done():
                self._pending = self._start_check()
            pending = self._pending
        give_up_at = time.monotonic() + self._wait
        return lambda: self._answer(pending, give_up_at)

    def _answer(self, pending: Future[dict[str, Any]], give_up_at: float) -> dict[str, Any]:
        try:
            result = pending.result(timeout=max(0.0, give_up_at - time.monotonic()))
        except FutureTimeout:
            result = {"status": "down", "error": f"no answer within {self._wait:g} s"}
        with self._lock:
            self._cached, self._checked_at = result, time.monotonic()
        return result

    def _start_check(self) -> Future[dict[str, Any]]:
        future: Future[dict[str, Any]] = Future()
        thread = threading.Thread(
            target=lambda: future.set_result(self._check()), name="health-probe", daemon=True
        )
        thread.start()
        return future


def ping_provider(provider: Provider) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        info = provider.ping()
    except Exception as exc:  # any failure means the same thing to a health check
        log.warning("provider check failed: %s", exc)
        return {"status": "down", "error": str(exc) or type(exc).__name__}
    latency = round((time.perf_counter() - started) * 1000, 2)
    return {"status": "ok", "latency_ms": latency, **info}


def _probe(key: str, make: Callable[[], Probe]) -> Probe:
    """The app's probe under `key`, made on first use."""
    with _probe_lock:
        probe = current_app.extensions.get(key)
        if probe is None:
            probe = current_app.extensions[key] = make()
        return probe


def _provider_probe() -> Probe:
    provider, ttl = llm.provider(), current_app.config["HEALTH_CACHE_SECONDS"]
    return _probe(PROBE_KEY, lambda: Probe(partial(ping_provider, provider), ttl))


def _database_probe() -> Probe:
    """Checked afresh each time, but never waited on longer than PROBE_WAIT_SECONDS: a frozen
    database's ping is left to its own deadline (chatapp.db_wait) while /health answers."""
    engine = db.engine
    return _probe(DATABASE_PROBE_KEY, lambda: Probe(partial(ping_database, engine), ttl=0))


def provider_status() -> dict[str, Any]:
    return {"name": llm.provider_name(), "model": llm.default_model(), **_provider_probe().status()}


def health_report() -> tuple[str, dict[str, Any], dict[str, Any]]:
    database_answer = _database_probe().start()  # the two checks run side by side
    provider = provider_status()
    database = database_answer()
    if database["status"] != "ok":
        return "down", database, provider
    return ("ok" if provider["status"] == "ok" else "degraded"), database, provider
