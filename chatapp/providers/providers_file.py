"""PROVIDERS_FILE: named providers and per-model settings, read from TOML and checked at start-up.

    default_model = "local/llama3.1:8b"

    [providers.local]
    type = "ollama"                    # ollama | openai | anthropic
    base_url = "http://127.0.0.1:11434"

    [providers.openai]
    type = "openai"
    base_url = "https://api.openai.com/v1"
    api_key_env = "OPENAI_API_KEY"     # the key stays in the environment
    models = ["gpt-4o", "gpt-4o-mini"] # optional allow-list; default: ask the provider

    [models."local/llama3.1:8b"]
    fallbacks = ["openai/gpt-4o-mini"]
    price = { prompt_per_1k = 0.0, completion_per_1k = 0.0 }

Every model name in the file is `<provider>/<model>`, with a provider the file declares.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AnyHttpUrl,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

ProviderName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^\S+$")]
EnvName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]


class ProvidersFileError(ValueError):
    """The file can't be used; the message is one line naming the file and the entry."""


class _Entry(BaseModel):
    # A misspelt key would otherwise be ignored without a word.
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProviderEntry(_Entry):
    type: Literal["ollama", "openai", "anthropic"]
    base_url: AnyHttpUrl | None = None  # None: the type's usual address
    api_key_env: EnvName | None = None
    models: Annotated[list[Name], Field(min_length=1)] | None = None  # the allow-list

    @field_validator("api_key_env")
    @classmethod
    def _key_is_set(cls, name: str | None, info: ValidationInfo) -> str | None:
        environ: Mapping[str, str] = (info.context or {}).get("environ", {})
        if name and not environ.get(name):
            raise PydanticCustomError(
                "key_missing", "the variable {name} is not set", {"name": name}
            )
        return name


class Price(_Entry):
    prompt_per_1k: Annotated[float, Field(ge=0)]
    completion_per_1k: Annotated[float, Field(ge=0)]


class ModelEntry(_Entry):
    fallbacks: list[Name] = []
    price: Price | None = None


class ProvidersFile(_Entry):
    default_model: Name | None = None  # None: LLM_MODEL
    providers: Annotated[dict[ProviderName, ProviderEntry], Field(min_length=1)]
    models: dict[Name, ModelEntry] = {}

    @model_validator(mode="after")
    def _names_are_known(self) -> ProvidersFile:
        named = [("default_model", self.default_model)] if self.default_model else []
        for key, entry in self.models.items():
            named.append((f'models."{key}"', key))
            named += [(f'models."{key}".fallbacks', name) for name in entry.fallbacks]
        for where, name in named:
            problem = self.problem_with(name)
            if problem:
                raise PydanticCustomError("unknown_model", "{where}: {problem}",
                                          {"where": where, "problem": problem})  # fmt: skip
        return self

    def problem_with(self, name: str) -> str | None:
        """Why `name` names no model this file offers, or None when it does."""
        provider, sep, model = name.partition("/")
        entry = self.providers.get(provider)
        if not sep or not model or entry is None:
            known = ", ".join(self.providers)
            return f"'{name}' must be <provider>/<model> with a provider of this file ({known})"
        if entry.models is not None and model not in entry.models:
            return f"'{name}' is not in the models of provider '{provider}'"
        return None


def load_providers_file(path: str, environ: Mapping[str, str]) -> ProvidersFile:
    """The file at `path`, checked; `environ` holds the variables api_key_env names."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ProvidersFileError(f"PROVIDERS_FILE {path}: {exc.strerror or exc}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ProvidersFileError(f"PROVIDERS_FILE {path}: not valid TOML: {exc}") from None
    try:
        return ProvidersFile.model_validate(data, context={"environ": environ})
    except ValidationError as exc:
        raise ProvidersFileError(f"PROVIDERS_FILE {path}: {_first_problem(exc)}") from None


def _first_problem(exc: ValidationError) -> str:
    errors = exc.errors()
    first = errors[0]
    where = ".".join(_key(part) for part in first["loc"])
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where + ': ' if where else ''}{first['msg']}{more}"


def _key(part: Any) -> str:
    """A location part as TOML writes a key: quoted when it isn't a bare key."""
    text = str(part)
    return text if text.replace("_", "").replace("-", "").isalnum() else f'"{text}"'
