"""What each provider can run: asked of all providers in parallel, kept 30 s per process."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from chatapp.providers import ModelInfo, NamedProvider, ProviderError, Registry

CACHE_SECONDS = 30.0


@dataclass(frozen=True)
class ProviderModels:
    """One provider's models, or the error that stopped it from listing them."""

    provider: NamedProvider
    models: list[ModelInfo] = field(default_factory=list)
    error: ProviderError | None = None

    def names(self) -> list[str]:
        return [info.name for info in self.models]


class ModelLists:
    """Each provider's list, asked again once it is `ttl` seconds old.

    A provider with an allow-list is never asked: its list is the allow-list. Threads ask
    the providers in parallel; under gevent they are greenlets, which is just as good here.
    """

    def __init__(self, registry: Registry, ttl: float = CACHE_SECONDS) -> None:
        self._registry = registry
        self._ttl = ttl
        self._lock = threading.Lock()
        self._cache: dict[str, tuple[float, ProviderModels]] = {}

    def all(self) -> list[ProviderModels]:
        """Every provider's list, in the configured order."""
        providers = list(self._registry.providers.values())
        fresh = self._fresh()
        missing = [named for named in providers if named.name not in fresh]
        if missing:
            with ThreadPoolExecutor(len(missing), thread_name_prefix="model-list") as pool:
                for listed in pool.map(self._ask, missing):
                    fresh[listed.provider.name] = listed
        return [fresh[named.name] for named in providers]

    def of(self, provider_name: str) -> ProviderModels:
        """One provider's list."""
        listed = self._fresh().get(provider_name)
        return listed or self._ask(self._registry.providers[provider_name])

    def _fresh(self) -> dict[str, ProviderModels]:
        now = time.monotonic()
        with self._lock:
            return {
                name: listed for name, (at, listed) in self._cache.items() if now - at < self._ttl
            }

    def _ask(self, named: NamedProvider) -> ProviderModels:
        if named.allowed is not None:
            listed = ProviderModels(named, [ModelInfo(name) for name in named.allowed])
        else:
            try:
                listed = ProviderModels(named, named.provider.models())
            except ProviderError as exc:
                listed = ProviderModels(named, error=exc)
        with self._lock:
            self._cache[named.name] = (time.monotonic(), listed)
        return listed
