"""What every provider does the same way, each checked against its own fake server."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from chatapp.providers import ChatOptions, Chunk, ModelInfo, Provider, Usage
from tests.providers.conftest import HISTORY, NO_OPTIONS, Case, collect


def test_provider_satisfies_the_protocol(provider: Provider, case: Case) -> None:
    assert isinstance(provider, Provider)
    assert provider.name == case.kind


def test_chat_returns_the_whole_reply(provider: Provider, case: Case) -> None:
    case.fake.tokens = ["The", " answer", " is", " 42."]
    reply = provider.chat(HISTORY, case.model, NO_OPTIONS)
    assert reply.content == "The answer is 42."
    assert reply.model == case.model


def test_chat_reports_usage_and_stop(provider: Provider, case: Case) -> None:
    reply = provider.chat(HISTORY, case.model, NO_OPTIONS)
    prompt_words = sum(len(m.content.split()) for m in HISTORY)
    assert reply.usage == Usage(prompt_tokens=prompt_words, completion_tokens=3)
    assert reply.finish_reason == "stop"


def test_chat_reports_length_when_max_tokens_cuts_the_reply(provider: Provider, case: Case) -> None:
    reply = provider.chat(HISTORY, case.model, ChatOptions(max_tokens=2))
    assert reply.content == "Hello world"
    assert reply.finish_reason == "length"


def test_stream_yields_one_chunk_per_upstream_token(provider: Provider, case: Case) -> None:
    case.fake.tokens = ["a", "b", "c", "d"]
    chunks = collect(provider.stream(HISTORY, case.model, NO_OPTIONS))
    assert [c.content for c in chunks if not c.done] == ["a", "b", "c", "d"]


def test_stream_chunks_join_to_the_same_text_as_chat(provider: Provider, case: Case) -> None:
    reply = provider.chat(HISTORY, case.model, NO_OPTIONS)
    chunks = collect(provider.stream(HISTORY, case.model, NO_OPTIONS))
    assert "".join(c.content for c in chunks) == reply.content


def test_stream_ends_with_one_done_chunk_carrying_usage(provider: Provider, case: Case) -> None:
    chunks = collect(provider.stream(HISTORY, case.model, NO_OPTIONS))
    prompt_words = sum(len(m.content.split()) for m in HISTORY)
    assert [c.done for c in chunks] == [False, False, False, True]
    assert chunks[-1] == Chunk(done=True, usage=Usage(prompt_words, 3), finish_reason="stop")


def test_stream_reports_length_when_max_tokens_cuts_the_reply(
    provider: Provider, case: Case
) -> None:
    chunks = collect(provider.stream(HISTORY, case.model, ChatOptions(max_tokens=1)))
    assert [c.content for c in chunks if not c.done] == ["Hello"]
    assert chunks[-1].finish_reason == "length"


@pytest.mark.parametrize("streaming", [False, True], ids=["chat", "stream"])
def test_temperature_is_forwarded(provider: Provider, case: Case, streaming: bool) -> None:
    options = ChatOptions(temperature=0.25)
    if streaming:
        collect(provider.stream(HISTORY, case.model, options))
    else:
        provider.chat(HISTORY, case.model, options)
    assert case.sent_temperature() == 0.25


# Where each provider's wire format puts top_p and the stop sequences.
SAMPLING_FIELDS = {
    "ollama": lambda body: (body["options"]["top_p"], body["options"]["stop"]),
    "openai": lambda body: (body["top_p"], body["stop"]),
    "anthropic": lambda body: (body["top_p"], body["stop_sequences"]),
}


@pytest.mark.parametrize("streaming", [False, True], ids=["chat", "stream"])
def test_top_p_and_stop_sequences_are_forwarded(
    provider: Provider, case: Case, streaming: bool
) -> None:
    options = ChatOptions(top_p=0.5, stop=("\n\nUser:", "END"))
    if streaming:
        collect(provider.stream(HISTORY, case.model, options))
    else:
        provider.chat(HISTORY, case.model, options)
    assert SAMPLING_FIELDS[case.kind](case.chat_body()) == (0.5, ["\n\nUser:", "END"])


def test_unset_options_are_not_sent(provider: Provider, case: Case) -> None:
    provider.chat(HISTORY, case.model, NO_OPTIONS)
    body = case.chat_body()
    assert "temperature" not in body
    assert "options" not in body


def test_chat_asks_for_no_stream_and_stream_asks_for_one(provider: Provider, case: Case) -> None:
    provider.chat(HISTORY, case.model, NO_OPTIONS)
    assert case.chat_body()["stream"] is False
    collect(provider.stream(HISTORY, case.model, NO_OPTIONS))
    assert case.chat_body()["stream"] is True


def test_model_is_sent_as_given(provider: Provider, case: Case) -> None:
    model = case.fake.models[1]
    reply = provider.chat(HISTORY, model, NO_OPTIONS)
    assert case.chat_body()["model"] == model
    assert reply.model == model


@pytest.mark.parametrize("streaming", [False, True], ids=["chat", "stream"])
def test_missing_token_counts_give_usage_of_none(
    provider: Provider, case: Case, streaming: bool
) -> None:
    case.fake.report_usage = False
    if streaming:
        usage = collect(provider.stream(HISTORY, case.model, NO_OPTIONS))[-1].usage
    else:
        usage = provider.chat(HISTORY, case.model, NO_OPTIONS).usage
    assert usage == Usage(prompt_tokens=None, completion_tokens=None)


def test_models_lists_the_upstream_models(provider: Provider, case: Case) -> None:
    case.fake.models = ["alpha", "beta:1b"]
    models = provider.models()
    assert [m.name for m in models] == ["alpha", "beta:1b"]
    assert all(isinstance(m, ModelInfo) and "name" not in m.details for m in models)


def test_models_of_an_empty_server_is_an_empty_list(provider: Provider, case: Case) -> None:
    case.fake.models = []
    assert provider.models() == []


def test_ping_describes_a_reachable_provider(provider: Provider, case: Case) -> None:
    expected = {"version": "0.5.1"} if case.kind == "ollama" else {"models": 2}
    assert provider.ping() == expected


def test_successive_calls_reuse_one_connection(provider: Provider, case: Case) -> None:
    for _ in range(3):
        provider.chat(HISTORY, case.model, NO_OPTIONS)
    assert len({r.client for r in case.fake.requests}) == 1


def test_one_provider_serves_concurrent_threads(provider: Provider, case: Case) -> None:
    def turn(i: int) -> str:
        if i % 2:
            return "".join(
                c.content for c in collect(provider.stream(HISTORY, case.model, NO_OPTIONS))
            )
        return provider.chat(HISTORY, case.model, NO_OPTIONS).content

    with ThreadPoolExecutor(max_workers=8) as pool:
        replies = list(pool.map(turn, range(24)))
    assert replies == ["Hello world!"] * 24


def test_successive_streams_reuse_one_connection(provider: Provider, case: Case) -> None:
    for _ in range(3):
        collect(provider.stream(HISTORY, case.model, NO_OPTIONS))
    assert len({r.client for r in case.fake.requests}) == 1


def test_a_stream_left_early_drops_its_connection(provider: Provider, case: Case) -> None:
    for _ in range(2):
        chunks = provider.stream(HISTORY, case.model, NO_OPTIONS)
        next(chunks)
        chunks.close()  # type: ignore[attr-defined]  # streams are generators
    assert len({r.client for r in case.fake.requests}) == 2
