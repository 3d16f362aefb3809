"""Local mode's LLM providers: what the user set in Settings, turned into what the embedded
server reads (a SPEC 15 providers file, its environment, and the SPEC 3 single-provider
variables), and a check that a provider answers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from desktop.api_types import ApiClientError

PROVIDER_NAMES = ("ollama", "openai", "anthropic")  # as Settings lists them
OPENAI_DEFAULT_URL = "https://api.openai.com/v1"
ANTHROPIC_DEFAULT_URL = "https://api.anthropic.com"
# The providers file names these variables; their values (the keys) are never in the file.
KEY_VARIABLES = {
    "openai": "CHATAPP_DESKTOP_OPENAI_API_KEY",
    "anthropic": "CHATAPP_DESKTOP_ANTHROPIC_API_KEY",
}
PROVIDERS_FILE_NAME = "providers.toml"
SHOWN_MODELS = 2  # model names a check lists before "…"


@dataclass(frozen=True)
class ProviderSettings:
    """The providers local mode uses; an empty field leaves that provider out."""

    ollama_host: str = ""
    openai_url: str = ""
    openai_key: str = ""
    anthropic_key: str = ""

    def configured(self) -> list[str]:
        """The providers set up, in the order Settings shows them; the first is the default."""
        chosen = {
            "ollama": bool(self.ollama_host),
            "openai": bool(self.openai_url or self.openai_key),
            "anthropic": bool(self.anthropic_key),
        }
        return [name for name, on in chosen.items() if on]

    def base_url(self, name: str) -> str:
        urls = {
            "ollama": self.ollama_host,
            "openai": self.openai_url or OPENAI_DEFAULT_URL,
            "anthropic": ANTHROPIC_DEFAULT_URL,
        }
        return urls[name]

    def key(self, name: str) -> str:
        return {"openai": self.openai_key, "anthropic": self.anthropic_key}.get(name, "")


def providers_toml(providers: ProviderSettings) -> str:
    """The SPEC 15 providers file: one table per configured provider, keys by variable name."""
    lines = ["# Written by chatapp-desktop for its local server. Keys stay in the environment."]
    for name in providers.configured():
        lines += ["", f"[providers.{name}]", f"type = {_toml(name)}"]
        lines.append(f"base_url = {_toml(providers.base_url(name))}")
        if providers.key(name):  # a variable named here must be set, or the server won't start
            lines.append(f"api_key_env = {_toml(KEY_VARIABLES[name])}")
    return "\n".join(lines) + "\n"


def _toml(text: str) -> str:
    # A JSON string is a valid TOML basic string: the same quotes and escapes.
    return json.dumps(text)


def key_environment(providers: ProviderSettings) -> dict[str, str | None]:
    """The key variables the providers file names; None for a key not set (to unset it)."""
    return {variable: providers.key(name) or None for name, variable in KEY_VARIABLES.items()}


def single_provider_config(providers: ProviderSettings, name: str) -> dict[str, Any]:
    """The SPEC 3 variables that make `name` the server's one provider."""
    return {
        "LLM_PROVIDER": name,
        "OLLAMA_HOST": providers.ollama_host or None,
        "OPENAI_BASE_URL": providers.base_url("openai"),
        "OPENAI_API_KEY": providers.openai_key or None,
        "ANTHROPIC_API_KEY": providers.anthropic_key or None,
    }


def server_config(providers: ProviderSettings, data_dir: Path) -> dict[str, Any]:
    """Settings for the embedded server: the providers file (written here) and, for a server
    that predates it, the first provider as SPEC 3 variables. One user: no rate limits."""
    config: dict[str, Any] = {"RATELIMIT_ENABLED": False}
    names = providers.configured()
    if names:
        path = data_dir / PROVIDERS_FILE_NAME
        path.write_text(providers_toml(providers), encoding="utf-8")
        config["PROVIDERS_FILE"] = str(path)
        config.update(single_provider_config(providers, names[0]))
    return {name: value for name, value in config.items() if value is not None}


def check_provider(providers: ProviderSettings, name: str) -> str:
    """Ask the provider for its models, as the server would; a sentence for Settings to show.
    Raises ApiClientError or ValueError, with a message that says what went wrong."""
    from chatapp.providers import ProviderError, create_provider

    config = {**single_provider_config(providers, name), "LLM_TIMEOUT": 10.0}
    if name == "anthropic" and not providers.anthropic_key:
        raise ValueError("Enter a key first")
    provider = create_provider(config)
    try:
        names = sorted(model.name for model in provider.models())
    except ProviderError as exc:  # expected, and worth a plain sentence rather than a trace
        raise ApiClientError("provider_check", f"{exc} at {providers.base_url(name)}") from exc
    if not names:
        return "Reachable, but it offers no models yet"
    shown = ", ".join(names[:SHOWN_MODELS]) + (", …" if len(names) > SHOWN_MODELS else "")
    return f"Reachable: {len(names)} model{'s' if len(names) != 1 else ''} ({shown})"
