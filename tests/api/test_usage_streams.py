"""Usage of cancelled streams, over real HTTP, and the cost of calls from the providers file."""

from __future__ import annotations

import pytest
import requests

from tests.api import chatkit
from tests.api.usagekit import counters, counts, my_usage

TOKENS = [f" word{i}" for i in range(200)]
MODEL = "llama3.1:8b-instruct-q8_0"


def _read_then_leave(url: str, key: str, body: dict, lines: int) -> None:
    """Stream, read a few lines, and close the connection mid-stream."""
    headers = {"Authorization": f"Bearer {key}"}
    with requests.post(url, json=body, headers=headers, stream=True, timeout=30) as response:
        assert response.status_code == 200
        for _, _line in zip(range(lines), response.iter_lines(), strict=False):
            pass


def _usage_row(client, user) -> dict:
    return chatkit.wait_for(lambda: (my_usage(client, user)["days"] or [None])[0])


@pytest.mark.parametrize("existing", [False, True], ids=["new chat", "existing chat"])
def test_a_cancelled_chat_stream_counts_the_tokens_it_streamed(
    live_server, client, admin, fake_ollama, existing
):
    before = chatkit.send(client, admin, "first", chat_id="gone")["usage"] if existing else {}
    fake_ollama.tokens = TOKENS
    fake_ollama.token_delay = 0.01
    body = {"message": "hi", "chat_id": "gone", "stream": True}
    _read_then_leave(f"{live_server.url}/chat", admin.key, body, lines=12)
    stored = chatkit.wait_for(lambda: _cancelled_reply(client, admin))
    # The provider never reported usage: each chunk streamed counts as a token.
    streamed = len(stored["content"].split())
    assert 0 < streamed < len(TOKENS)
    expected = counts(
        1 + existing,
        0,
        before.get("prompt_tokens", 0),
        before.get("completion_tokens", 0) + streamed,
    )
    assert chatkit.wait_for(lambda: counters(client, admin) == expected)


def _cancelled_reply(client, user) -> dict | None:
    response = client.get("/chat/history/gone", headers=user.headers)
    if response.status_code != 200:
        return None
    last = response.get_json()["history"]["messages"][-1]
    return last if last.get("finish_reason") == "cancelled" else None


def test_a_cancelled_gateway_stream_counts_the_tokens_it_streamed(
    live_server, client, admin, fake_ollama
):
    fake_ollama.tokens = TOKENS
    fake_ollama.token_delay = 0.01
    body = {"model": MODEL, "messages": [{"role": "user", "content": "hi"}], "stream": True}
    _read_then_leave(f"{live_server.url}/v1/chat/completions", admin.key, body, lines=12)
    row = _usage_row(client, admin)
    assert (row["requests"], row["errors"], row["prompt_tokens"]) == (1, 0, 0)
    assert 5 <= row["completion_tokens"] < len(TOKENS)


PRICED_TOML = """
default_model = "local/{model}"

[providers.local]
type = "ollama"
base_url = "{ollama}"

[models."local/{model}"]
price = {{ prompt_per_1k = 2.0, completion_per_1k = 30.0 }}
"""


@pytest.fixture
def app_overrides(tmp_path, fake_ollama) -> dict:
    path = tmp_path / "providers.toml"
    path.write_text(PRICED_TOML.format(model=MODEL, ollama=fake_ollama.url))
    return {"PROVIDERS_FILE": str(path)}


def test_cost_comes_from_the_providers_file_prices(client, admin):
    usage = chatkit.send(client, admin, "one two three four")["usage"]
    chatkit.send(client, admin, "hi", model="local/qwen2.5:7b")  # no price: costs nothing
    expected = (usage["prompt_tokens"] * 2.0 + usage["completion_tokens"] * 30.0) / 1000
    days = {day["model"]: day for day in my_usage(client, admin)["days"]}
    assert days[f"local/{MODEL}"]["cost"] == pytest.approx(expected)
    assert days["local/qwen2.5:7b"]["cost"] == 0
    assert my_usage(client, admin)["totals"]["cost"] == pytest.approx(expected)
    assert counters(client, admin)["requests"] == 2


def test_streamed_cost_comes_from_the_prices_too(client, admin):
    events = chatkit.stream(client, admin, "one two")
    usage = events[-1][1]["usage"]
    expected = (usage["prompt_tokens"] * 2.0 + usage["completion_tokens"] * 30.0) / 1000
    assert my_usage(client, admin)["totals"]["cost"] == pytest.approx(expected)


def test_a_failed_call_to_a_200_character_model_is_counted_on_both_databases(client, admin):
    # "local/" and the 200 characters a request may name: longer than the column.
    body = {"message": "hi", "model": "x" * 200}
    assert client.post("/chat", json=body, headers=admin.headers).status_code == 400
    assert counters(client, admin) == counts(1, 1, 0, 0)
