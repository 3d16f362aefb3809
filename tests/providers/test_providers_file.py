"""PROVIDERS_FILE: the SPEC's format is accepted, and each bad file stops start-up with one line."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from chatapp.providers import ProvidersFileError
from chatapp.providers.providers_file import load_providers_file
from tests.servers import CHATAPP

ENVIRON = {"OPENAI_API_KEY": "sk-test", "ANTHROPIC_API_KEY": "sk-ant-test"}
LOCAL = '[providers.local]\ntype = "ollama"\n'

# name -> (file text, what the one-line error must say after the file's name)
BAD_FILES = {
    "not TOML": ("[providers.local\n", "not valid TOML"),
    "no providers": ('default_model = "local/x"\n', "providers: Field required"),
    "unknown type": (
        '[providers.local]\ntype = "olama"\n',
        "providers.local.type: Input should be 'ollama', 'openai' or 'anthropic'",
    ),
    "missing key variable": (
        '[providers.cloud]\ntype = "openai"\napi_key_env = "NOT_SET_ANYWHERE"\n',
        "providers.cloud.api_key_env: the variable NOT_SET_ANYWHERE is not set",
    ),
    "misspelt key": (
        '[providers.local]\ntype = "ollama"\nbase_ur = "http://x"\n',
        "providers.local.base_ur: Extra inputs are not permitted",
    ),
    "bad URL": (
        '[providers.local]\ntype = "ollama"\nbase_url = "localhost:11434"\n',
        "providers.local.base_url: URL scheme should be 'http' or 'https'",
    ),
    "fallback naming an unknown provider": (
        LOCAL + '[models."local/m"]\nfallbacks = ["cloud/gpt-4o"]\n',
        "models.\"local/m\".fallbacks: 'cloud/gpt-4o' must be <provider>/<model> with a provider "
        "of this file (local)",
    ),
    "fallback outside the allow-list": (
        LOCAL + '[providers.cloud]\ntype = "openai"\nmodels = ["gpt-4o"]\n'
        '[models."local/m"]\nfallbacks = ["cloud/gpt-5"]\n',
        "'cloud/gpt-5' is not in the models of provider 'cloud'",
    ),
    "bare default model": (
        'default_model = "llama3"\n' + LOCAL,
        "default_model: 'llama3' must be <provider>/<model>",
    ),
    "negative price": (
        LOCAL + '[models."local/m"]\nprice = { prompt_per_1k = -1, completion_per_1k = 0 }\n',
        'models."local/m".price.prompt_per_1k: Input should be greater than or equal to 0',
    ),
}


def write(tmp_path: Path, text: str) -> str:
    path = tmp_path / "providers.toml"
    path.write_text(text)
    return str(path)


def readme_example() -> str:
    """The TOML example of the README's "Several providers" section."""
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    section = readme.split("## Several providers", 1)[1]
    return section.split("```toml\n", 1)[1].split("```", 1)[0]


def test_the_readme_example_is_accepted(tmp_path: Path) -> None:
    spec = load_providers_file(write(tmp_path, readme_example()), ENVIRON)
    assert spec.default_model == "local/llama3.1:8b"
    assert [entry.type for entry in spec.providers.values()] == ["ollama", "openai", "anthropic"]
    assert spec.providers["openai"].models == ["gpt-4o", "gpt-4o-mini"]
    assert spec.models["local/llama3.1:8b"].fallbacks == [
        "openai/gpt-4o-mini", "claude/claude-sonnet-4-5"
    ]  # fmt: skip
    assert spec.models["local/llama3.1:8b"].price.completion_per_1k == 0.0


@pytest.mark.parametrize("name", list(BAD_FILES))
def test_a_bad_file_is_one_line_naming_the_file_and_the_entry(tmp_path: Path, name: str) -> None:
    text, expected = BAD_FILES[name]
    path = write(tmp_path, text)
    with pytest.raises(ProvidersFileError) as caught:
        load_providers_file(path, ENVIRON)
    message = str(caught.value)
    assert message.startswith(f"PROVIDERS_FILE {path}: ")
    assert expected in message
    assert "\n" not in message


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    path = str(tmp_path / "nowhere.toml")
    with pytest.raises(ProvidersFileError, match=f"PROVIDERS_FILE {path}: No such file"):
        load_providers_file(path, ENVIRON)


def test_serve_stops_with_one_line_for_a_bad_file(tmp_path: Path) -> None:
    path = write(tmp_path, BAD_FILES["unknown type"][0])
    env = {"PROVIDERS_FILE": path, "DATABASE_URL": f"sqlite:///{tmp_path / 'chatapp.db'}"}
    result = subprocess.run(
        [CHATAPP, "serve", "--port", "1"], env=env, cwd=tmp_path, capture_output=True,
        text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        f"Error: PROVIDERS_FILE {path}: providers.local.type: "
        "Input should be 'ollama', 'openai' or 'anthropic'"
    ]
