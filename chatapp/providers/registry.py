"""The configured providers by name, and where a model name leads (SPEC section 15).

With PROVIDERS_FILE, models are named `<provider>/<model>`; without it, the section 3
variables define one provider and every name is bare, as it always was.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from chatapp.providers.base import Provider
from chatapp.providers.factory import create_provider, make_provider, timeouts_from
from chatapp.providers.providers_file import (
    ModelEntry,
    Price,
    ProviderEntry,
    load_providers_file,
)


@dataclass(frozen=True)
class NamedProvider:
    """A configured provider: its name, its type and, when the file gives one, its allow-list."""

    name: str
    kind: str
    provider: Provider
    allowed: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Route:
    """Where a model name leads: the provider, and the model as that provider names it."""

    target: NamedProvider
    model: str
    qualified: bool  # the API shows names with their provider's (there is a providers file)

    @property
    def name(self) -> str:
        """The model's name as the API shows it."""
        return self.public(self.model)

    def public(self, model: str) -> str:
        """`model` of this provider (e.g. as its reply names it) as the API shows it."""
        return f"{self.target.name}/{model}" if self.qualified else model


class Registry:
    """Every configured provider, the default model, and each model's settings."""

    def __init__(
        self,
        providers: Mapping[str, NamedProvider],
        default_model: str,
        *,
        qualified: bool,
        default_setting: str,
        settings: Mapping[str, ModelEntry] | None = None,
    ) -> None:
        self.providers = dict(providers)
        self.qualified = qualified
        self.default_setting = default_setting  # where an operator changes the default model
        self._settings = dict(settings or {})
        # A bare default model belongs to the first provider.
        self.default = self._split(default_model, next(iter(self.providers)))

    def route(self, name: str | None) -> Route:
        """The route of `name`; None means the default model, a bare name the default provider."""
        return self.default if name is None else self._split(name, self.default.target.name)

    def public_name(self, provider: str, model: str) -> str:
        """`model` of `provider` as the API shows it."""
        return Route(self.providers[provider], model, self.qualified).name

    def fallbacks(self, route: Route) -> list[Route]:
        """The routes to try, in order, when `route`'s provider can't answer."""
        entry = self._settings.get(route.name)
        return [self.route(name) for name in entry.fallbacks] if entry else []

    def price(self, name: str) -> Price | None:
        """The providers file's price of the model the API calls `name`, if it gives one."""
        entry = self._settings.get(name)
        return entry.price if entry else None

    def close(self) -> None:
        for named in self.providers.values():
            close = getattr(named.provider, "close", None)
            if close:
                close()

    def _split(self, name: str, default_provider: str) -> Route:
        # Split at the first "/" only when a configured provider's name comes before it, so
        # that Ollama names such as "hf.co/org/model" keep working.
        prefix, sep, rest = name.partition("/")
        if self.qualified and sep and rest and prefix in self.providers:
            return Route(self.providers[prefix], rest, True)
        return Route(self.providers[default_provider], name, self.qualified)


def create_registry(config: Mapping[str, object], environ: Mapping[str, str]) -> Registry:
    """The providers PROVIDERS_FILE declares, else the one the section 3 variables name.

    ProvidersFileError when the file can't be used; `environ` holds the keys it names.
    """
    path = config.get("PROVIDERS_FILE")
    llm_model = str(config.get("LLM_MODEL"))
    if not path:
        provider = create_provider(config)
        named = NamedProvider(provider.name, provider.name, provider)
        return Registry(
            {named.name: named}, llm_model, qualified=False, default_setting="LLM_MODEL"
        )
    spec = load_providers_file(str(path), environ)
    providers = {
        name: _named(name, entry, config, environ) for name, entry in spec.providers.items()
    }
    return Registry(
        providers,
        spec.default_model or llm_model,
        qualified=True,
        default_setting=f"default_model in {path} (else LLM_MODEL)",
        settings=spec.models,
    )


def _named(
    name: str, entry: ProviderEntry, config: Mapping[str, object], environ: Mapping[str, str]
) -> NamedProvider:
    key = environ.get(entry.api_key_env) if entry.api_key_env else None
    url = str(entry.base_url) if entry.base_url else None
    provider = make_provider(entry.type, url, key, timeouts_from(config), name)
    allowed = tuple(entry.models) if entry.models is not None else None
    return NamedProvider(name, entry.type, provider, allowed)
