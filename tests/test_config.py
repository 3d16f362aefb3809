"""Configuration: defaults, the old app's DB_* variables, `.env` files, overrides, and bad
values stopping start-up with one line."""

from __future__ import annotations

import subprocess

import pytest

from chatapp import create_app
from chatapp.config import ConfigError, Settings, load_config
from tests.servers import CHATAPP, free_port


@pytest.fixture(autouse=True)
def environment(tmp_path, monkeypatch):
    """No setting in the environment, and a working directory of the test's own (no `.env`)."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    return monkeypatch


def test_defaults_follow_the_spec(tmp_path):
    config = load_config(str(tmp_path))
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/chatapp.db"
    assert config["RATE_LIMIT_PER_HOUR"] == 1000
    assert config["CHAT_RATE_LIMIT"] == "30/minute"
    assert config["AUTH_FAILURE_LIMIT"] == "20/minute"
    assert config["RATELIMIT_STRATEGY"] == "sliding-window-counter"
    assert config["RATELIMIT_ENABLED"] is True
    assert config["LLM_PROVIDER"] == "ollama"
    assert config["LLM_MODEL"] == "llama3.1:8b-instruct-q8_0"
    assert config["OLLAMA_HOST"] == "http://127.0.0.1:11434"
    assert config["LLM_TIMEOUT"] == 120.0
    assert config["MAX_CONTENT_LENGTH"] == 1024 * 1024
    assert config["MAX_MESSAGE_CHARS"] == 32000
    assert config["MAX_CONTEXT_CHARS"] == 48000
    assert config["LOG_LEVEL"] == "INFO"
    assert config["LOG_FORMAT"] == "text"


def test_old_app_db_variables_build_a_postgresql_url(tmp_path, environment):
    for name, value in {
        "DB_HOST": "db.local",
        "DB_PORT": "6543",
        "DB_NAME": "chat",
        "DB_USER": "me",
        "DB_PASSWORD": "p@ss:w/rd",
    }.items():
        environment.setenv(name, value)
    url = load_config(str(tmp_path))["SQLALCHEMY_DATABASE_URI"]
    assert url == "postgresql+psycopg2://me:p%40ss%3Aw%2Frd@db.local:6543/chat"


def test_database_url_wins_over_db_host(tmp_path, environment):
    environment.setenv("DATABASE_URL", "sqlite:////tmp/x.db")
    environment.setenv("DB_HOST", "db.local")
    assert load_config(str(tmp_path))["SQLALCHEMY_DATABASE_URI"] == "sqlite:////tmp/x.db"


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgres://u@h/d", "postgresql+psycopg2://u@h/d"),
        ("postgresql://u@h/d", "postgresql+psycopg2://u@h/d"),
        ("postgresql+psycopg2://u@h/d", "postgresql+psycopg2://u@h/d"),
    ],
)
def test_postgresql_urls_use_the_psycopg2_driver_we_ship(tmp_path, given, used):
    url = load_config(str(tmp_path), {"DATABASE_URL": given})["SQLALCHEMY_DATABASE_URI"]
    assert url == used


def test_values_are_parsed_to_their_types(tmp_path, environment):
    environment.setenv("RATE_LIMIT_PER_HOUR", "40")
    environment.setenv("LLM_TIMEOUT", "2.5")
    environment.setenv("RATELIMIT_ENABLED", "off")
    environment.setenv("LLM_PROVIDER", " OpenAI ")
    config = load_config(str(tmp_path))
    assert config["RATE_LIMIT_PER_HOUR"] == 40
    assert config["LLM_TIMEOUT"] == 2.5
    assert config["RATELIMIT_ENABLED"] is False
    assert config["LLM_PROVIDER"] == "openai"


def test_an_empty_variable_means_the_default(tmp_path, environment):
    environment.setenv("RATE_LIMIT_PER_HOUR", "")
    assert load_config(str(tmp_path))["RATE_LIMIT_PER_HOUR"] == 1000


def test_overrides_win_over_the_environment(tmp_path, environment):
    environment.setenv("LLM_MODEL", "theirs")
    assert load_config(str(tmp_path), {"LLM_MODEL": "mine"})["LLM_MODEL"] == "mine"


def test_dotenv_file_is_read_and_the_environment_wins_over_it(tmp_path, environment):
    (tmp_path / ".env").write_text("LLM_MODEL=from-file\nCHAT_RATE_LIMIT=5/minute\nOTHER=x\n")
    environment.setenv("LLM_MODEL", "from-env")
    config = load_config(str(tmp_path))
    assert config["LLM_MODEL"] == "from-env"
    assert config["CHAT_RATE_LIMIT"] == "5/minute"


def test_string_overrides_are_parsed_like_the_environment(tmp_path):
    config = load_config(str(tmp_path), {"RATELIMIT_ENABLED": "false", "DB_POOL_SIZE": "3"})
    assert config["RATELIMIT_ENABLED"] is False
    assert config["DB_POOL_SIZE"] == 3


def test_overrides_that_are_no_setting_of_ours_reach_the_flask_config(tmp_path):
    assert load_config(str(tmp_path), {"TESTING": True})["TESTING"] is True


def test_an_in_memory_sqlite_url_gets_no_pool_size(tmp_path):
    for url in ("sqlite://", "sqlite:///:memory:"):
        options = load_config(str(tmp_path), {"DATABASE_URL": url})["SQLALCHEMY_ENGINE_OPTIONS"]
        assert "pool_size" not in options


def test_the_app_runs_on_an_in_memory_sqlite_database(tmp_path):
    from chatapp.startup import prepare

    app = create_app({"DATABASE_URL": "sqlite://", "LEGACY_IMPORT_ON_START": False})
    key = prepare(app)
    response = app.test_client().get("/me", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    assert response.get_json()["username"] == "admin"


# name, bad value, words of the accepted form the error must name
BAD_VALUES = [
    ("CHAT_RATE_LIMIT", "abc", "30/minute"),
    ("AUTH_FAILURE_LIMIT", "x", "30/minute"),
    ("RATE_LIMIT_PER_HOUR", "lots", "whole number"),
    ("RATE_LIMIT_PER_HOUR", "0", "whole number"),
    ("RATELIMIT_ENABLED", "nope", "true or false"),
    ("LEGACY_IMPORT_ON_START", "maybe", "true or false"),
    ("LLM_PROVIDER", "foo", "ollama, openai, anthropic"),
    ("RATELIMIT_STRATEGY", "bogus", "sliding-window-counter, fixed-window"),
    ("LOG_FORMAT", "xml", "text, json"),
    ("LOG_LEVEL", "loud", "DEBUG, INFO"),
    ("MAX_CONTENT_LENGTH", "-1", "whole number, 1 or more"),
    ("MAX_MESSAGE_CHARS", "-5", "whole number, 1 or more"),
    ("MAX_STREAMS_PER_USER", "-1", "0 (off) or more"),
    ("LLM_TIMEOUT", "0", "seconds above 0"),
    ("DB_PORT", "99999", "port number"),
    ("DATABASE_URL", "not a url", "SQLAlchemy URL"),
    ("TOKEN_QUOTA_PER_DAY", "lots", "whole number of tokens, 1 or more"),
    ("TOKEN_QUOTA_PER_MONTH", "0", "whole number of tokens, 1 or more"),
]


@pytest.mark.parametrize(("name", "value", "accepted"), BAD_VALUES)
def test_a_bad_value_in_the_environment_is_one_line_naming_it(
    tmp_path, environment, name, value, accepted
):
    environment.setenv(name, value)
    with pytest.raises(ConfigError) as error:
        load_config(str(tmp_path))
    message = str(error.value)
    assert "\n" not in message
    assert message.startswith(f"{name}={value!r} is not valid: expected ")
    assert accepted in message


def test_a_bad_value_in_the_dotenv_file_or_the_overrides_stops_create_app(tmp_path):
    (tmp_path / ".env").write_text("RATE_LIMIT_PER_HOUR=lots\n")
    with pytest.raises(ConfigError, match="^RATE_LIMIT_PER_HOUR='lots' is not valid"):
        create_app()
    with pytest.raises(ConfigError, match="^LOG_FORMAT='xml' is not valid"):
        create_app({"LOG_FORMAT": "xml", "RATE_LIMIT_PER_HOUR": 5})


def test_every_bad_value_gets_its_own_line(tmp_path, environment):
    environment.setenv("CHAT_RATE_LIMIT", "abc")
    environment.setenv("RATELIMIT_ENABLED", "nope")
    with pytest.raises(ConfigError) as error:
        load_config(str(tmp_path))
    lines = str(error.value).splitlines()
    assert [line.split("=")[0] for line in lines] == ["CHAT_RATE_LIMIT", "RATELIMIT_ENABLED"]


def test_chatapp_serve_with_a_bad_value_exits_with_one_line_before_serving(tmp_path, environment):
    environment.setenv("CHAT_RATE_LIMIT", "abc")
    port = free_port()
    result = subprocess.run(
        [CHATAPP, "serve", "--port", str(port)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0  # and it returned: gunicorn would have served until killed
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "Error: CHAT_RATE_LIMIT='abc' is not valid: expected a rate limit such as"
        ' "30/minute", or several: "5/second;100/hour"'
    ]
