"""Where a model name leads: `<provider>/<model>` with a providers file, bare names without."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from chatapp.providers import Registry, create_registry

FILE = """
default_model = "local/llama3.1:8b"

[providers.local]
type = "ollama"
base_url = "http://127.0.0.1:11434"

[providers.cloud]
type = "openai"
base_url = "http://127.0.0.1:1/v1"
api_key_env = "CLOUD_KEY"

[models."local/llama3.1:8b"]
fallbacks = ["cloud/gpt-4o-mini", "local/qwen2.5:7b"]
"""
TIMEOUTS = {"LLM_TIMEOUT": 5, "LLM_CONNECT_TIMEOUT": 2}


@pytest.fixture
def registry(tmp_path: Path) -> Iterator[Registry]:
    path = tmp_path / "providers.toml"
    path.write_text(FILE)
    made = create_registry({"PROVIDERS_FILE": str(path), **TIMEOUTS}, {"CLOUD_KEY": "sk-x"})
    yield made
    made.close()


@pytest.mark.parametrize(
    ("name", "provider", "model", "shown"),
    [
        ("cloud/gpt-4o-mini", "cloud", "gpt-4o-mini", "cloud/gpt-4o-mini"),
        ("local/llama3.1:8b", "local", "llama3.1:8b", "local/llama3.1:8b"),
        ("qwen2.5:7b", "local", "qwen2.5:7b", "local/qwen2.5:7b"),  # bare: the default provider
        # Ollama names with slashes: split only after a configured provider's name.
        ("local/hf.co/org/model:Q4", "local", "hf.co/org/model:Q4", "local/hf.co/org/model:Q4"),
        ("hf.co/org/model:Q4", "local", "hf.co/org/model:Q4", "local/hf.co/org/model:Q4"),
        ("cloud/", "local", "cloud/", "local/cloud/"),  # no model after the provider
    ],
)
def test_a_name_routes_to_its_provider(
    registry: Registry, name: str, provider: str, model: str, shown: str
) -> None:
    route = registry.route(name)
    assert (route.target.name, route.model, route.name) == (provider, model, shown)


def test_no_name_is_the_default_model(registry: Registry) -> None:
    assert registry.route(None).name == "local/llama3.1:8b"


def test_the_key_comes_from_the_variable_the_file_names(registry: Registry) -> None:
    session = registry.providers["cloud"].provider._http.session
    assert session.headers["Authorization"] == "Bearer sk-x"


def test_fallbacks_come_in_the_files_order(registry: Registry) -> None:
    routes = registry.fallbacks(registry.route("llama3.1:8b"))
    assert [route.name for route in routes] == ["cloud/gpt-4o-mini", "local/qwen2.5:7b"]
    assert registry.fallbacks(registry.route("cloud/gpt-4o-mini")) == []


def test_without_a_file_names_stay_bare() -> None:
    single = create_registry({"LLM_PROVIDER": "ollama", "LLM_MODEL": "m", **TIMEOUTS}, {})
    try:
        route = single.route("ollama/hf.co/org/model")
        assert (route.target.name, route.model, route.name) == (
            "ollama", "ollama/hf.co/org/model", "ollama/hf.co/org/model"
        )  # fmt: skip
        assert single.route(None).name == "m"
    finally:
        single.close()


def test_a_file_without_default_model_takes_llm_model_on_its_first_provider(
    tmp_path: Path,
) -> None:
    path = tmp_path / "providers.toml"
    path.write_text('[providers.box]\ntype = "ollama"\n')
    made = create_registry({"PROVIDERS_FILE": str(path), "LLM_MODEL": "m", **TIMEOUTS}, {})
    try:
        assert made.route(None).name == "box/m"
    finally:
        made.close()
