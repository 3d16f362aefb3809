"""The health report: the database checked live, the provider through a short cache."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from typing import Any

from flask import current_app

from chatapp.database import ping_database
from chatapp.providers import Provider
from chatapp.services import llm

log = logging.getLogger(__name__)

PROBE_KEY = "chatapp.provider_probe"
PROBE_WAIT_SECONDS = 2.0  # /health never waits longer than this on the provider
_probe_lock = threading.Lock()


class ProviderProbe:
    """Pings the provider at most once per `ttl` seconds, waiting at most `wait` seconds.

    The ping runs on a daemon thread; one that overruns the wait keeps running, and later
    checks wait on that same ping rather than piling new ones onto a stuck provider.
    """

    def __init__(self, provider: Provider, ttl: float, wait: float = PROBE_WAIT_SECONDS) -> None:
        self._provider = provider
        self._ttl = ttl
        self._wait = wait
        self._lock = threading.Lock()
        self._pending: Future[dict[str, Any]] | None = None
        self._cached: dict[str, Any] | None = None
        self._checked_at = 0.0

    def status(self) -> dict[str, Any]:
        with self._lock:
            if self._cached is not None and time.monotonic() - self._checked_at < self._ttl:
                return self._cached
            if self._pending is None or self._pending.done():
                self._pending = self._start_ping()
            pending = self._pending
        try:
            result = pending.result(timeout=self._wait)
        except FutureTimeout:
            result = {"status": "down", "error": f"no answer within {self._wait:g} s"}
        with self._lock:
            self._cached, self._checked_at = result, time.monotonic()
        return result

    def _start_ping(self) -> Future[dict[str, Any]]:
        future: Future[dict[str, Any]] = Future()
        thread = threading.Thread(
            target=lambda: future.set_result(self._ping()), name="provider-probe", daemon=True
        )
        thread.start()
        return future

    def _ping(self) -> dict[str, Any]:
        started = time.perf_counter()
        try:
            info = self._provider.ping()
        except Exception as exc:  # any failure means the same thing to a health check
            log.warning("provider check failed: %s", exc)
            return {"status": "down", "error": str(exc) or type(exc).__name__}
        latency = round((time.perf_counter() - started) * 1000, 2)
        return {"status": "ok", "latency_ms": latency, **info}


def _probe() -> ProviderProbe:
    """The app's probe, made on first use."""
    with _probe_lock:
        probe = current_app.extensions.get(PROBE_KEY)
        if probe is None:
            probe = ProviderProbe(llm.provider(), current_app.config["HEALTH_CACHE_SECONDS"])
            current_app.extensions[PROBE_KEY] = probe
        return probe


def provider_status() -> dict[str, Any]:
    return {"name": llm.provider_name(), "model": llm.default_model(), **_probe().status()}


def health_report() -> tuple[str, dict[str, Any], dict[str, Any]]:
    database = ping_database()
    provider = provider_status()
    if database["status"] != "ok":
        return "down", database, provider
    return ("ok" if provider["status"] == "ok" else "degraded"), database, provider
