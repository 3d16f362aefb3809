"""Settings from the environment, `.env` and `create_app` overrides: read here and only here."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import quote

from dotenv import dotenv_values
from sqlalchemy.engine import make_url


def _bool(value: str) -> bool:
    return value.strip().lower() in {"1", "true", "yes", "on"}


# name -> (default, parser). Names match SPEC section 3 and, where it had them, the old app.
SETTINGS: dict[str, tuple[Any, Callable[[str], Any]]] = {
    "DATABASE_URL": (None, str),
    "DB_HOST": (None, str),
    "DB_PORT": ("5432", str),
    "DB_NAME": ("chatapp", str),
    "DB_USER": ("chatapp", str),
    "DB_PASSWORD": ("", str),
    "API_KEY": (None, str),
    "RATE_LIMIT_PER_HOUR": (1000, int),
    "CHAT_RATE_LIMIT": ("30/minute", str),
    "AUTH_FAILURE_LIMIT": ("20/minute", str),
    "RATELIMIT_STORAGE_URI": ("chatapp-db://", str),
    "RATELIMIT_STRATEGY": ("sliding-window-counter", str),
    "RATELIMIT_ENABLED": (True, _bool),
    "RATELIMIT_PURGE_SECONDS": (300.0, float),
    "LLM_PROVIDER": ("ollama", str),
    "LLM_MODEL": ("llama3.1:8b-instruct-q8_0", str),
    "OLLAMA_HOST": ("http://127.0.0.1:11434", str),
    "OPENAI_BASE_URL": ("https://api.openai.com/v1", str),
    "OPENAI_API_KEY": (None, str),
    "ANTHROPIC_API_KEY": (None, str),
    "ANTHROPIC_BASE_URL": ("https://api.anthropic.com", str),
    "LLM_TIMEOUT": (120.0, float),
    "LLM_CONNECT_TIMEOUT": (5.0, float),
    "MAX_MESSAGE_CHARS": (32000, int),
    "MAX_CONTENT_LENGTH": (1024 * 1024, int),
    "MAX_CONTEXT_CHARS": (48000, int),
    "CHAT_HISTORY_DIR": ("chats", str),
    "SYSTEM_PROMPTS_DIR": ("system_prompts", str),
    "SYSTEM_PROMPT_FILE": ("system_prompt.txt", str),
    "LEGACY_IMPORT_ON_START": (True, _bool),
    "LOG_LEVEL": ("INFO", str),
    "LOG_FORMAT": ("text", str),
    "DB_POOL_SIZE": (20, int),
    "DB_POOL_TIMEOUT": (5.0, float),
    "STREAM_PING_SECONDS": (15.0, float),
    "MAX_STREAMS_PER_USER": (8, int),
    "HEALTH_CACHE_SECONDS": (5.0, float),
    "CORS_ORIGINS": ("", str),
}


def read_environment(env_file: Path | None = None) -> dict[str, str]:
    """The process environment over the `.env` file of the working directory."""
    path = env_file or Path.cwd() / ".env"
    file_values = {k: v for k, v in dotenv_values(path).items() if v is not None}
    return {**file_values, **os.environ}


def database_url_from_parts(values: Mapping[str, Any]) -> str:
    """The old app's DB_HOST/DB_PORT/DB_NAME/DB_USER/DB_PASSWORD as one PostgreSQL URL."""
    user = quote(str(values["DB_USER"]), safe="")
    password = quote(str(values["DB_PASSWORD"]), safe="")
    auth = f"{user}:{password}" if password else user
    return (
        f"postgresql+psycopg2://{auth}@{values['DB_HOST']}:{values['DB_PORT']}/{values['DB_NAME']}"
    )


def load_config(
    instance_path: str,
    overrides: Mapping[str, Any] | None = None,
    environ: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Every setting, parsed, with the Flask and extension keys derived from them."""
    source = read_environment() if environ is None else dict(environ)
    values: dict[str, Any] = {}
    for name, (default, parse) in SETTINGS.items():
        raw = source.get(name)
        values[name] = parse(raw) if raw not in (None, "") else default
    values.update(_parse_overrides(overrides or {}))
    values["SQLALCHEMY_DATABASE_URI"] = _database_url(values, instance_path)
    values.update(_derived(values))
    return values


def _parse_overrides(overrides: Mapping[str, Any]) -> dict[str, Any]:
    """Overrides may be typed values or, as from the environment, strings to parse."""
    parsed = dict(overrides)
    for name, value in overrides.items():
        if name in SETTINGS and isinstance(value, str) and value != "":
            parsed[name] = SETTINGS[name][1](value)
    return parsed


def _database_url(values: Mapping[str, Any], instance_path: str) -> str:
    if values.get("SQLALCHEMY_DATABASE_URI"):
        return str(values["SQLALCHEMY_DATABASE_URI"])
    if values.get("DATABASE_URL"):
        return _with_psycopg2(str(values["DATABASE_URL"]))
    if values.get("DB_HOST"):
        return database_url_from_parts(values)
    return f"sqlite:///{Path(instance_path) / 'chatapp.db'}"


def _with_psycopg2(url: str) -> str:
    """A driverless PostgreSQL URL names psycopg2, the driver we ship: SQLAlchemy 2.1 would
    pick psycopg 3, and Heroku-style `postgres://` is no longer accepted at all."""
    for scheme in ("postgres://", "postgresql://"):
        if url.startswith(scheme):
            return "postgresql+psycopg2://" + url[len(scheme) :]
    return url


def _derived(values: Mapping[str, Any]) -> dict[str, Any]:
    url = make_url(values["SQLALCHEMY_DATABASE_URI"])
    in_memory = url.get_backend_name() == "sqlite" and url.database in (None, "", ":memory:")
    # No pool_pre_ping: a round trip on every checkout, two per turn. database.py pings only
    # a connection that sat idle (ping_idle_connections).
    engine_options: dict[str, Any] = {}
    if not in_memory:
        # A turn holds a connection only around its reads and its one write, never while the
        # provider answers, so a pool of DB_POOL_SIZE serves hundreds of greenlets; past
        # DB_POOL_TIMEOUT a request gives up with 503 rather than queue without end.
        engine_options.update(
            pool_size=values["DB_POOL_SIZE"],
            max_overflow=10,
            pool_timeout=values["DB_POOL_TIMEOUT"],
        )
    return {
        "SQLALCHEMY_ENGINE_OPTIONS": {
            **engine_options,
            **values.get("SQLALCHEMY_ENGINE_OPTIONS", {}),
        },
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
    }
