"""The gateway in front of each provider: the SDK gets the same answers from all three."""

from __future__ import annotations

import pytest

from tests.api.gatewaykit import HELLO, sdk, sdk_chunks

KINDS = ["ollama", "openai", "anthropic"]
SETTINGS = {
    "ollama": lambda url: {"OLLAMA_HOST": url},
    "openai": lambda url: {"OPENAI_BASE_URL": url, "OPENAI_API_KEY": "sk-test"},
    "anthropic": lambda url: {"ANTHROPIC_BASE_URL": url, "ANTHROPIC_API_KEY": "sk-ant-test"},
}


@pytest.fixture(params=KINDS)
def fake(request: pytest.FixtureRequest):
    fake = request.getfixturevalue(f"fake_{request.param}")
    fake.tokens = ["Same", " answer"]
    return fake


@pytest.fixture
def app_overrides(fake) -> dict:
    return {"LLM_PROVIDER": fake.provider, **SETTINGS[fake.provider](fake.url)}


def test_sdk_completion_through_each_provider(live_server, admin, fake):
    completion = sdk(live_server, admin.key).chat.completions.create(
        model="llama3.1:8b-instruct-q8_0", messages=HELLO, max_tokens=50
    )
    assert completion.choices[0].message.content == "Same answer"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage.completion_tokens == 2


def test_sdk_stream_through_each_provider(live_server, admin, fake):
    chunks = sdk_chunks(live_server, admin.key, stream_options={"include_usage": True})
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Same answer"
    assert chunks[-1].usage.completion_tokens == 2


def test_sdk_lists_each_providers_models(live_server, admin, fake):
    models = sdk(live_server, admin.key).models.list()
    assert [m.id for m in models] == fake.models
    assert {m.owned_by for m in models} == {fake.provider}
