"""Configuration: defaults, the old app's DB_* variables, `.env` files and overrides."""

from __future__ import annotations

import pytest

from chatapp.config import load_config, read_environment


def test_defaults_follow_the_spec(tmp_path):
    config = load_config(str(tmp_path), environ={})
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path}/chatapp.db"
    assert config["RATE_LIMIT_PER_HOUR"] == 1000
    assert config["CHAT_RATE_LIMIT"] == "30/minute"
    assert config["AUTH_FAILURE_LIMIT"] == "20/minute"
    assert config["RATELIMIT_STRATEGY"] == "sliding-window-counter"
    assert config["LLM_PROVIDER"] == "ollama"
    assert config["LLM_MODEL"] == "llama3.1:8b-instruct-q8_0"
    assert config["OLLAMA_HOST"] == "http://127.0.0.1:11434"
    assert config["LLM_TIMEOUT"] == 120.0
    assert config["MAX_CONTENT_LENGTH"] == 1024 * 1024
    assert config["MAX_MESSAGE_CHARS"] == 32000
    assert config["MAX_CONTEXT_CHARS"] == 48000
    assert config["LOG_FORMAT"] == "text"


def test_old_app_db_variables_build_a_postgresql_url(tmp_path):
    environ = {
        "DB_HOST": "db.local",
        "DB_PORT": "6543",
        "DB_NAME": "chat",
        "DB_USER": "me",
        "DB_PASSWORD": "p@ss:w/rd",
    }
    url = load_config(str(tmp_path), environ=environ)["SQLALCHEMY_DATABASE_URI"]
    assert url == "postgresql+psycopg2://me:p%40ss%3Aw%2Frd@db.local:6543/chat"


def test_database_url_wins_over_db_host(tmp_path):
    environ = {"DATABASE_URL": "sqlite:////tmp/x.db", "DB_HOST": "db.local"}
    assert (
        load_config(str(tmp_path), environ=environ)["SQLALCHEMY_DATABASE_URI"]
        == "sqlite:////tmp/x.db"
    )


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgres://u@h/d", "postgresql+psycopg2://u@h/d"),
        ("postgresql://u@h/d", "postgresql+psycopg2://u@h/d"),
        ("postgresql+psycopg2://u@h/d", "postgresql+psycopg2://u@h/d"),
    ],
)
def test_postgresql_urls_use_the_psycopg2_driver_we_ship(tmp_path, given, used):
    url = load_config(str(tmp_path), environ={"DATABASE_URL": given})["SQLALCHEMY_DATABASE_URI"]
    assert url == used


def test_values_are_parsed_to_their_types(tmp_path):
    config = load_config(str(tmp_path), environ={"RATE_LIMIT_PER_HOUR": "40", "LLM_TIMEOUT": "2.5"})
    assert config["RATE_LIMIT_PER_HOUR"] == 40
    assert config["LLM_TIMEOUT"] == 2.5


def test_overrides_win_over_the_environment(tmp_path):
    config = load_config(str(tmp_path), {"LLM_MODEL": "mine"}, environ={"LLM_MODEL": "theirs"})
    assert config["LLM_MODEL"] == "mine"


def test_dotenv_file_is_read_and_the_environment_wins_over_it(tmp_path, monkeypatch):
    env_file = tmp_path / ".env"
    env_file.write_text("LLM_MODEL=from-file\nCHAT_RATE_LIMIT=5/minute\n")
    monkeypatch.setenv("LLM_MODEL", "from-env")
    values = read_environment(env_file)
    assert values["LLM_MODEL"] == "from-env"
    assert values["CHAT_RATE_LIMIT"] == "5/minute"


def test_string_overrides_are_parsed_like_the_environment(tmp_path):
    config = load_config(
        str(tmp_path), {"RATELIMIT_ENABLED": "false", "DB_POOL_SIZE": "3"}, environ={}
    )
    assert config["RATELIMIT_ENABLED"] is False
    assert config["DB_POOL_SIZE"] == 3


def test_an_in_memory_sqlite_url_gets_no_pool_size(tmp_path):
    for url in ("sqlite://", "sqlite:///:memory:"):
        options = load_config(str(tmp_path), environ={"DATABASE_URL": url})[
            "SQLALCHEMY_ENGINE_OPTIONS"
        ]
        assert "pool_size" not in options


def test_the_app_runs_on_an_in_memory_sqlite_database(tmp_path):
    from chatapp import create_app
    from chatapp.startup import prepare

    app = create_app({"DATABASE_URL": "sqlite://", "LEGACY_IMPORT_ON_START": False})
    key = prepare(app)
    response = app.test_client().get("/me", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200
    assert response.get_json()["username"] == "admin"
