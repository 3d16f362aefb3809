"""Settings from the environment, `.env` and `create_app` overrides: read here and only here.

`Settings` declares every setting once: its name (the environment variable), its type, its
default and, through the type, the form it accepts. pydantic-settings reads and checks them all
when an app is built, so a bad value stops start-up with one line that says what to fix.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

from dotenv import dotenv_values
from limits import parse_many
from pydantic import AfterValidator, Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError


def _rate_limits(value: str) -> str:
    parse_many(value)  # ValueError for anything the limits library can't parse
    return value


def _database_url(value: str) -> str:
    try:
        make_url(value)
    except ArgumentError as exc:  # not a ValueError, so pydantic would not report it
        raise ValueError(str(exc)) from None
    return value


# The kinds of value a setting takes; each description is the accepted form a bad value's
# error names.
RateLimits = Annotated[
    str,
    AfterValidator(_rate_limits),
    Field(description='a rate limit such as "30/minute", or several: "5/second;100/hour"'),
]
Count = Annotated[int, Field(ge=1, description="a whole number, 1 or more")]
CountOrOff = Annotated[int, Field(ge=0, description="a whole number, 0 (off) or more")]
Seconds = Annotated[float, Field(gt=0, description="a number of seconds above 0")]
SecondsOrOff = Annotated[float, Field(ge=0, description="a number of seconds, 0 (off) or more")]
Port = Annotated[int, Field(ge=1, le=65535, description="a port number, 1 to 65535")]
# An optional setting's own description: pydantic doesn't read one inside `X | None`.
QUOTA_FORM = "a whole number of tokens, 1 or more (unset: unlimited)"
Switch = Annotated[bool, Field(description="true or false (also 1/0, yes/no, on/off)")]


def _choice(*values: str, case: Callable[[str], str] = str.lower) -> Any:
    """One of `values`, written in any case."""

    def pick(value: str) -> str:
        if case(value.strip()) not in values:
            raise ValueError(f"not one of {values}")
        return case(value.strip())

    return Annotated[str, AfterValidator(pick), Field(description=f"one of: {', '.join(values)}")]


class Settings(BaseSettings):
    """Every setting of SPEC section 3 and a few more, by the name of its variable.

    To add one: declare it here with its type and default; it is then read from the
    environment, `.env` and overrides, checked at start-up, and found in `app.config`.
    """

    model_config = SettingsConfigDict(
        env_file=".env",  # of the working directory; the environment wins over it
        env_ignore_empty=True,  # VAR= means "unset", as an operator expects
        case_sensitive=True,
        extra="ignore",  # a `.env` may hold other variables too (FLASK_APP, a tool's own)
        validate_default=True,
    )

    DATABASE_URL: Annotated[str, AfterValidator(_database_url)] | None = Field(
        None, description="an SQLAlchemy URL such as postgresql://user:password@host/dbname"
    )
    # The old app's way to name its PostgreSQL database, used when DATABASE_URL is unset.
    DB_HOST: str | None = None
    DB_PORT: Port = 5432
    DB_NAME: str = "chatapp"
    DB_USER: str = "chatapp"
    DB_PASSWORD: str = ""
    API_KEY: str | None = None
    RATE_LIMIT_PER_HOUR: Count = 1000
    CHAT_RATE_LIMIT: RateLimits = "30/minute"
    AUTH_FAILURE_LIMIT: RateLimits = "20/minute"
    RATELIMIT_STORAGE_URI: str = "chatapp-db://"
    RATELIMIT_STRATEGY: _choice("sliding-window-counter", "fixed-window") = "sliding-window-counter"
    RATELIMIT_ENABLED: Switch = True
    RATELIMIT_PURGE_SECONDS: SecondsOrOff = 300.0
    LLM_PROVIDER: _choice("ollama", "openai", "anthropic") = "ollama"
    PROVIDERS_FILE: str | None = None  # several providers at once (SPEC section 15)
    LLM_MODEL: str = "llama3.1:8b-instruct-q8_0"
    OLLAMA_HOST: str = "http://127.0.0.1:11434"
    OPENAI_BASE_URL: str = "https://api.openai.com/v1"
    OPENAI_API_KEY: str | None = None
    ANTHROPIC_API_KEY: str | None = None
    ANTHROPIC_BASE_URL: str = "https://api.anthropic.com"
    LLM_TIMEOUT: Seconds = 120.0
    LLM_CONNECT_TIMEOUT: Seconds = 5.0
    MAX_MESSAGE_CHARS: Count = 32000
    MAX_CONTENT_LENGTH: Count = 1024 * 1024
    MAX_CONTEXT_CHARS: Count = 48000
    CHAT_HISTORY_DIR: str = "chats"
    SYSTEM_PROMPTS_DIR: str = "system_prompts"
    SYSTEM_PROMPT_FILE: str = "system_prompt.txt"
    LEGACY_IMPORT_ON_START: Switch = True
    LOG_LEVEL: _choice("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL", case=str.upper) = "INFO"
    LOG_FORMAT: _choice("text", "json") = "text"
    DB_POOL_SIZE: Count = 20
    DB_POOL_TIMEOUT: Seconds = 5.0
    DB_STATEMENT_TIMEOUT: SecondsOrOff = 5.0  # each database call's deadline; 0: none
    TRUSTED_PROXIES: CountOrOff = 0  # proxies in front whose X-Forwarded-* are trusted
    STREAM_PING_SECONDS: Seconds = 15.0
    MAX_STREAMS_PER_USER: CountOrOff = 8
    HEALTH_CACHE_SECONDS: SecondsOrOff = 5.0
    CORS_ORIGINS: str = ""  # origins allowed cross-origin, separated by commas or spaces
    # Tokens (prompt and completion) per user per UTC day and month; unset: unlimited.
    TOKEN_QUOTA_PER_DAY: Count | None = Field(None, description=QUOTA_FORM)
    TOKEN_QUOTA_PER_MONTH: Count | None = Field(None, description=QUOTA_FORM)
    METRICS_TOKEN: str | None = None  # GET /metrics takes this bearer token; unset: an admin key
    # The gunicorn workers' shared metrics (prometheus_client's variable): `chatapp serve` sets
    # it to a fresh directory per start; unset, /metrics shows this process's own.
    PROMETHEUS_MULTIPROC_DIR: str | None = None


class ConfigError(ValueError):
    """A setting with a value it can't take; str() is one line per bad setting."""


def read_environment(env_file: Path | None = None) -> dict[str, str]:
    """The process environment over the `.env` file of the working directory, for settings
    named at run time (a providers file's `api_key_env`)."""
    path = env_file or Path.cwd() / ".env"
    file_values = {k: v for k, v in dotenv_values(path).items() if v is not None}
    return {**file_values, **os.environ}


def default(name: str) -> Any:
    """The default of the setting called `name`."""
    return Settings.model_fields[name].default


def load_config(instance_path: str, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Every setting, checked, with the Flask and extension keys derived from them.

    Overrides win over the environment and `.env`. They may be typed values or strings, as
    from the environment; keys that are no setting of ours (TESTING, SQLAlchemy's or
    Flask-Limiter's own) go to the Flask config as they are. ConfigError for a bad value.
    """
    overrides = dict(overrides or {})
    ours = {name: overrides.pop(name) for name in Settings.model_fields if name in overrides}
    try:
        settings = Settings(**ours)
    except ValidationError as exc:
        raise ConfigError(_describe(exc)) from None
    values = {**settings.model_dump(), **overrides}
    values["SQLALCHEMY_DATABASE_URI"] = _sqlalchemy_url(values, instance_path)
    values.update(_derived(values))
    return values


def _describe(exc: ValidationError) -> str:
    """One line per bad setting: its name, the value given and the form it accepts."""
    lines = []
    for error in exc.errors():
        name = str(error["loc"][0])
        accepted = Settings.model_fields[name].description or error["msg"]
        lines.append(f"{name}={error['input']!r} is not valid: expected {accepted}")
    return "\n".join(lines)


def database_url_from_parts(values: Mapping[str, Any]) -> str:
    """The old app's DB_HOST/DB_PORT/DB_NAME/DB_USER/DB_PASSWORD as one PostgreSQL URL."""
    user = quote(str(values["DB_USER"]), safe="")
    password = quote(str(values["DB_PASSWORD"]), safe="")
    auth = f"{user}:{password}" if password else user
    return (
        f"postgresql+psycopg2://{auth}@{values['DB_HOST']}:{values['DB_PORT']}/{values['DB_NAME']}"
    )


def _sqlalchemy_url(values: Mapping[str, Any], instance_path: str) -> str:
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
        # DB_POOL_TIMEOUT a request gives up with 503 rather than queue without end. Last in,
        # first out: after a burst has filled the pool, requests a little apart keep getting
        # the connection used last, within the idle ping's window; taking every pooled one in
        # turn, each would have sat idle past it and cost a ping.
        engine_options.update(
            pool_size=values["DB_POOL_SIZE"],
            max_overflow=10,
            pool_timeout=values["DB_POOL_TIMEOUT"],
            pool_use_lifo=True,
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
