"""A providers file naming the three fakes at once, plus two providers where nothing listens."""

from __future__ import annotations

import socket
from pathlib import Path

DEFAULT = "local/llama3.1:8b-instruct-q8_0"
CLOUD_KEY = "sk-cloud-test"

PROVIDERS_TOML = """
default_model = "{default}"

[providers.local]
type = "ollama"
base_url = "{ollama}"

[providers.cloud]
type = "openai"
base_url = "{openai}"
api_key_env = "CLOUD_KEY"

[providers.claude]
type = "anthropic"
base_url = "{anthropic}"
api_key_env = "CLAUDE_KEY"

[providers.gone]
type = "ollama"
base_url = "{dead}"

[providers.gone2]
type = "openai"
base_url = "{dead2}/v1"
models = ["m"]

[models."gone/m"]
fallbacks = ["gone2/m", "cloud/gpt-4o-mini", "local/qwen2.5:7b"]

[models."{default}"]
fallbacks = ["cloud/gpt-4o-mini"]
"""


def dead_url() -> str:
    """A URL where nothing listens: the port was bound, then released."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def providers_overrides(tmp_path: Path, fake_ollama, fake_openai, fake_anthropic) -> dict:
    """App settings for the file above; the keys come from settings, as from the environment."""
    path = tmp_path / "providers.toml"
    path.write_text(
        PROVIDERS_TOML.format(
            default=DEFAULT,
            ollama=fake_ollama.url,
            openai=fake_openai.url,
            anthropic=fake_anthropic.url,
            dead=dead_url(),
            dead2=dead_url(),
        )  # fmt: skip
    )
    fake_openai.api_key = CLOUD_KEY  # so a request without the file's key fails
    return {
        "PROVIDERS_FILE": str(path),
        "CLOUD_KEY": CLOUD_KEY,
        "CLAUDE_KEY": "sk-ant-test",
        "LLM_TIMEOUT": 2.0,
        "STREAM_PING_SECONDS": 0.2,
    }


def chat_requests(fake) -> list:
    """The chat requests a fake received (any wire format)."""
    return [r for r in fake.requests if r.method == "POST"]
