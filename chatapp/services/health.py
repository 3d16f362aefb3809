"""The health report: the database checked live, each provider through a short cache.

Every check runs on a thread of its own and /health waits for them together, at most
PROBE_WAIT_SECONDS: a frozen database or a hung provider is reported down, never waited on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from functools import partial
from typing import Any

from flask import current_app

from chatapp.database import ping_database
from chatapp.extensions import db
from chatapp.providers import NamedProvider, Route
from chatapp.services import llm
from chatapp.services.model_lists import ModelLists

log = logging.getLogger(__name__)

PROBES_KEY = "chatapp.provider_probes"
DATABASE_PROBE_KEY = "chatapp.database_probe"
PROBE_WAIT_SECONDS = 2.0  # /health never waits longer than this on the providers or database
_probe_lock = threading.Lock()

Check = Callable[[], dict[str, Any]]


class Probe:
    """Runs `check` (which answers a status, never raises) at most once per `ttl` seconds.

    The check runs on a daemon thread; one that overruns the caller's wait keeps running,
    and later checks wait on that same one rather than piling new ones onto a stuck service.
    """

    def __init__(self, check: Check, ttl: float) -> None:
        self._check = check
        self._ttl = ttl
        self._lock = threading.Lock()
        self._pending: Future[dict[str, Any]] | None = None
        self._cached: dict[str, Any] | None = None
        self._checked_at = 0.0

    def begin(self) -> Future[dict[str, Any]]:
        """The fresh cached result, or the check under way (started if none is)."""
        with self._lock:
            if self._cached is not None and time.monotonic() - self._checked_at < self._ttl:
                done: Future[dict[str, Any]] = Future()
                done.set_result(self._cached)
                return done
            if self._pending is None or self._pending.done():
                self._pending = self._start()
            return self._pending

    def finish(self, pending: Future[dict[str, Any]], deadline: float) -> dict[str, Any]:
        """The check's result, or "down" when it isn't in by `deadline` (monotonic time)."""
        wait = max(0.0, deadline - time.monotonic())
        try:
            result = pending.result(timeout=wait)
        except FutureTimeout:
            result = {"status": "down", "error": f"no answer within {PROBE_WAIT_SECONDS:g} s"}
        with self._lock:
            self._cached, self._checked_at = result, time.monotonic()
        return result

    def _start(self) -> Future[dict[str, Any]]:
        future: Future[dict[str, Any]] = Future()
        thread = threading.Thread(
            target=lambda: future.set_result(self._check()), name="health-probe", daemon=True
        )
        thread.start()
        return future


def provider_check(named: NamedProvider, default: Route | None, lists: ModelLists) -> Check:
    """Ping the provider; for the default model's provider, also look for that model."""

    def check() -> dict[str, Any]:
        info = named.provider.ping()
        if default is not None:
            listed = lists.of(named.name)  # the cached list: no extra call within 30 s
            if listed.error is None:
                info["model_available"] = has_model(listed.names(), default.model, named.kind)
        return info

    return partial(_timed, check)


def _timed(check: Check) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        info = check()
    except Exception as exc:  # any failure means the same thing to a health check
        log.warning("provider check failed: %s", exc)
        return {"status": "down", "error": str(exc) or type(exc).__name__}
    latency = round((time.perf_counter() - started) * 1000, 2)
    return {"status": "ok", "latency_ms": latency, **info}


def has_model(names: list[str], model: str, kind: str) -> bool:
    # Ollama reads a name without a tag as name:latest.
    tagged = f"{model}:latest" if kind == "ollama" and ":" not in model else model
    return model in names or tagged in names


def _made_once(key: str, make: Callable[[], Any]) -> Any:
    """The app's probe(s) under `key`, made on first use."""
    with _probe_lock:
        made = current_app.extensions.get(key)
        if made is None:
            made = current_app.extensions[key] = make()
        return made


def _database_probe() -> Probe:
    """Checked afresh each time, but never waited on past the deadline: a frozen database's
    ping is left to its own deadline (chatapp.db_wait) while /health answers."""
    engine = db.engine
    return _made_once(DATABASE_PROBE_KEY, lambda: Probe(partial(ping_database, engine), ttl=0))


def _make_probes() -> dict[str, Probe]:
    registry, lists = llm.registry(), llm.model_lists()
    ttl = current_app.config["HEALTH_CACHE_SECONDS"]
    default = registry.default

    def probe(named: NamedProvider) -> Probe:
        route = default if named is default.target else None
        return Probe(provider_check(named, route, lists), ttl)

    return {name: probe(named) for name, named in registry.providers.items()}


def statuses() -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """The database's status and each provider's, all checked at once within one wait."""
    database, providers = _database_probe(), _made_once(PROBES_KEY, _make_probes)
    database_check = database.begin()  # every check starts before any is waited on
    provider_checks = {name: probe.begin() for name, probe in providers.items()}
    deadline = time.monotonic() + PROBE_WAIT_SECONDS
    answers = {
        name: providers[name].finish(check, deadline) for name, check in provider_checks.items()
    }
    return database.finish(database_check, deadline), answers


@dataclass(frozen=True)
class HealthReport:
    status: str  # "ok" | "degraded" | "down"
    database: dict[str, Any]
    provider: dict[str, Any]  # the default model's provider
    providers: dict[str, dict[str, Any]] | None  # every provider, with a providers file


def health_report() -> HealthReport:
    registry = llm.registry()
    database, providers = statuses()
    default = registry.default
    name = default.target.name
    provider = {"name": name, "model": default.name, **providers[name]}
    listed = (
        {name: {"type": registry.providers[name].kind, **s} for name, s in providers.items()}
        if registry.qualified
        else None
    )
    return HealthReport(_overall(database, provider, providers), database, provider, listed)


def _overall(
    database: dict[str, Any], provider: dict[str, Any], providers: dict[str, dict[str, Any]]
) -> str:
    if database["status"] != "ok":
        return "down"
    providers_ok = all(status["status"] == "ok" for status in providers.values())
    return "ok" if providers_ok and provider.get("model_available", True) else "degraded"
