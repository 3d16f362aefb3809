"""Configuration: defaults, the old app's DB_* variables, `.env` files and overrides."""

from __future__ import annotations

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


def test_heroku_style_postgres_scheme_is_accepted(tmp_path):
    url = load_config(str(tmp_path), environ={"DATABASE_URL": "postgres://u@h/d"})[
        "SQLALCHEMY_DATABASE_URI"
    ]
    assert url == "postgresql://u@h/d"


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
