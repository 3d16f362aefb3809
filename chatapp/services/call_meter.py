"""One LLM call's accounting: its usage row and its metrics, recorded once however it ends.

A streamed call is counted when its feed is closed (the turn's `finally`), so a finished,
failed or cancelled stream all pass the same way; a chat turn counts a finished one at its
Done instead, so that the statement storing the turn writes its usage too. A cancelled
stream whose provider never reported usage counts each content chunk it streamed as one
completion token (providers stream about a token a chunk) and no prompt tokens.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

from chatapp.metrics import FIRST_TOKEN, LLM_REQUESTS, LLM_TOKENS, STREAMS_IN_FLIGHT
from chatapp.providers import ModelNotFound, Usage
from chatapp.providers.providers_file import Price
from chatapp.services import usage
from chatapp.services.provider_feed import FeedEvent, ProviderFeed
from chatapp.services.quotas import Account
from chatapp.services.turn_events import Delta, Done, Failed

Count = Callable[[int, usage.Call], None]  # usage.record, or a turn's usage.HeldCall.hold

UNKNOWN_MODEL = "<unknown>"  # the metrics label of a model no provider has: names are unbounded


class CallMeter:
    """Counts one call of `account`'s user: ok, error or cancelled, exactly once."""

    def __init__(
        self, account: Account, price: Callable[[str], Price | None], count: Count = usage.record
    ) -> None:
        self.account = account
        self._price = price
        self._count_usage = count
        self._started = time.perf_counter()
        self._done = False

    def first_token(self, model: str) -> None:
        FIRST_TOKEN.labels(model).observe(time.perf_counter() - self._started)

    def answered(self, model: str, reported: Usage, outcome: str = "ok", chunks: int = 0) -> None:
        """A call that answered (or was cancelled): the provider's counts, else the chunks."""
        prompt = reported.prompt_tokens or 0
        completion = chunks if reported.completion_tokens is None else reported.completion_tokens
        cost = usage.cost_of(self._price(model), prompt, completion)
        self._count(usage.Call(model, prompt, completion, cost=cost), outcome, model)

    def failed(self, model: str, error: Exception, chunks: int = 0) -> None:
        """A call the provider failed: one request and one error, with what it streamed."""
        label = UNKNOWN_MODEL if isinstance(error, ModelNotFound) else model
        self._count(usage.Call(model, 0, chunks, failed=True), "error", label)

    def _count(self, call: usage.Call, outcome: str, label: str) -> None:
        if self._done:
            return
        self._done = True
        self._count_usage(self.account.user_id, call)
        LLM_REQUESTS.labels(label, outcome).inc()
        LLM_TOKENS.labels(label, "prompt").inc(call.prompt_tokens)
        LLM_TOKENS.labels(label, "completion").inc(call.completion_tokens)


class MeteredFeed:
    """A ProviderFeed that its CallMeter watches; close() counts the call, as it ended."""

    def __init__(self, feed: ProviderFeed, meter: CallMeter, model: Callable[[], str]) -> None:
        self._feed = feed
        self._meter = meter
        self._model = model  # the answering model: a fallback may take over before a token
        self._chunks = 0
        self._done: Done | None = None
        self._failed: Exception | None = None
        self._closed = False
        STREAMS_IN_FLIGHT.inc()

    @property
    def ended(self) -> bool:
        return self._feed.ended

    def __iter__(self) -> Iterator[FeedEvent]:
        for event in self._feed:
            self._watch(event)
            yield event

    def _watch(self, event: FeedEvent) -> None:
        if isinstance(event, Delta) and (event.content or event.tool_calls):
            if self._chunks == 0:
                self._meter.first_token(self._model())
            self._chunks += 1
        elif isinstance(event, Done):
            self._done = event
        elif isinstance(event, Failed):
            self._failed = event.error

    def count(self) -> None:
        """Count the call as it stands: close() does, or a turn at Done, to store it with the
        answer. The meter counts only the first time."""
        if self._failed is not None:
            self._meter.failed(self._model(), self._failed, self._chunks)
        elif self._done is not None:
            self._meter.answered(self._model(), self._done.usage, chunks=self._chunks)
        else:
            self._meter.answered(self._model(), Usage(), "cancelled", self._chunks)

    def close(self) -> None:
        self._feed.close()
        if self._closed:
            return
        self._closed = True
        self.count()
        STREAMS_IN_FLIGHT.dec()
