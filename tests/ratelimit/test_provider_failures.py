"""Provider failures (SPEC section 13): they don't spend the LLM budget, and a 503 or 504 tells
the client to wait only when the provider said so."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from werkzeug.test import TestResponse

from tests.fakes.ollama import FakeOllama
from tests.ratelimit.servers import away_from_an_hour_boundary
from tests.servers import free_port

MESSAGES = [{"role": "user", "content": "hi"}]


@pytest.fixture
def provider() -> Iterator[FakeOllama]:
    """A fake Ollama of this test's own, on a fixed port, so it can go down and come back."""
    fake = FakeOllama(port=free_port()).start()
    yield fake
    fake.reset()
    fake.stop()


@pytest.fixture
def app_overrides(request: pytest.FixtureRequest, provider: FakeOllama) -> dict:
    # Per hour, away from the hour's end: a call that fails in the window after the one it was
    # counted in is (rightly) not given back, which would make these counts flaky.
    away_from_an_hour_boundary()
    return {
        "OLLAMA_HOST": provider.url,
        "CHAT_RATE_LIMIT": "2/hour",
        "LLM_TIMEOUT": 0.5,
        "RATELIMIT_PURGE_SECONDS": 0,
        **getattr(request, "param", {}),
    }


def read(response: TestResponse) -> TestResponse:
    """The whole response: a stream is read to its end, so its slot is free again."""
    response.get_data()
    response.close()
    return response


CALLS: dict[str, Callable[..., TestResponse]] = {
    "chat": lambda client, headers: client.post(
        "/chat", json={"message": "hi"}, headers=headers
    ),
    "chat stream": lambda client, headers: client.post(
        "/chat", json={"message": "hi", "stream": True}, headers=headers
    ),
    "completions": lambda client, headers: client.post(
        "/v1/chat/completions", json={"model": "qwen2.5:7b", "messages": MESSAGES}, headers=headers
    ),
    "completions stream": lambda client, headers: client.post(
        "/v1/chat/completions",
        json={"model": "qwen2.5:7b", "messages": MESSAGES, "stream": True},
        headers=headers,
    ),
}  # fmt: skip


def go_down(provider: FakeOllama) -> None:
    provider.stop()


def come_back(provider: FakeOllama) -> None:
    provider.start()


def answer_503(provider: FakeOllama) -> None:
    provider.fail_status = 503


def hang(provider: FakeOllama) -> None:
    provider.hang = True


def recover(provider: FakeOllama) -> None:
    provider.reset()


# failure: (break the provider, status we answer, mend it)
FAILURES = {
    "down": (go_down, 503, come_back),
    "answers 503": (answer_503, 502, recover),
    "times out": (hang, 504, recover),
}


@pytest.mark.parametrize("failure", FAILURES)
@pytest.mark.parametrize("call", CALLS)
def test_failed_llm_calls_do_not_spend_the_budget(client, make_user, provider, call, failure):
    send, (fail, status, mend) = CALLS[call], FAILURES[failure]
    bob = make_user("bob")
    fail(provider)
    failed = [read(send(client, bob.headers)) for _ in range(5)]
    assert [response.status_code for response in failed] == [status] * 5
    assert failed[-1].headers["X-RateLimit-Remaining"] == "2"
    mend(provider)
    statuses = [read(send(client, bob.headers)).status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


@pytest.mark.parametrize("app_overrides", [{"RATELIMIT_STRATEGY": "fixed-window"}], indirect=True)
def test_failed_llm_calls_are_given_back_in_a_fixed_window_too(client, make_user, provider):
    test_failed_llm_calls_do_not_spend_the_budget(client, make_user, provider, "chat", "down")


def test_a_call_that_fails_after_its_first_token_is_counted(client, make_user, provider):
    bob = make_user("bob")
    provider.error_after = 1
    for _ in range(2):
        stream = read(CALLS["chat stream"](client, bob.headers))
        assert stream.status_code == 200 and b"event: error" in stream.data
    assert read(CALLS["chat"](client, bob.headers)).status_code == 429


def test_refused_calls_are_not_given_back(client, make_user, provider):
    bob = make_user("bob")
    assert [read(CALLS["chat"](client, bob.headers)).status_code for _ in range(2)] == [200] * 2
    provider.fail_status = 503
    assert read(CALLS["chat"](client, bob.headers)).status_code == 429
    provider.reset()
    assert read(CALLS["chat"](client, bob.headers)).status_code == 429


@pytest.mark.parametrize("failure", ["down", "times out"])
@pytest.mark.parametrize("path", ["/chat", "/models", "/v1/chat/completions", "/v1/models"])
def test_503_and_504_carry_no_retry_after_of_ours(client, admin, provider, failure, path):
    fail, status, _ = FAILURES[failure]
    fail(provider)
    if path.startswith("/v1/chat"):
        response = client.post(path, json={"model": "qwen2.5:7b", "messages": MESSAGES},
                               headers=admin.headers)  # fmt: skip
    elif path == "/chat":
        response = client.post(path, json={"message": "hi"}, headers=admin.headers)
    else:
        response = client.get(path, headers=admin.headers)
    assert response.status_code == status
    assert "Retry-After" not in response.headers
    assert "X-RateLimit-Remaining" in response.headers  # the limits' own headers stay


@pytest.mark.parametrize("retry_after", ["7", "Wed, 02 Dec 2026 12:00:00 GMT"])
@pytest.mark.parametrize("call", CALLS)
def test_the_providers_own_retry_after_is_passed_on(client, admin, provider, call, retry_after):
    provider.fail_status, provider.retry_after = 503, retry_after
    response = read(CALLS[call](client, admin.headers))
    assert response.status_code == 502
    assert response.headers["Retry-After"] == retry_after


def test_a_retry_after_no_client_could_read_is_not_passed_on(client, admin, provider):
    provider.fail_status, provider.retry_after = 503, "soon"
    response = client.get("/models", headers=admin.headers)
    assert response.status_code == 502
    assert "Retry-After" not in response.headers
