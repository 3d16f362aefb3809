"""Retries and fallbacks: a request goes to the first of its routes that starts answering.

A connection that fails before the first byte is retried once; a provider still unavailable,
or one that times out, passes the request to the next route (the model's `fallbacks`). Once a
token has arrived, nothing is retried: a failure is the answer's.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Sequence
from contextlib import closing
from typing import TypeVar

from chatapp.providers import (
    ChatOptions,
    Chunk,
    Message,
    ProviderTimeout,
    ProviderUnavailable,
    Route,
)

log = logging.getLogger(__name__)

T = TypeVar("T")  # what a route's provider answered first


class Fallbacks:
    """Routes tried in turn until one's provider starts answering; `route` is the latest.

    A connection failure is retried once; then an unavailable or timed-out provider passes
    the request on to the next route.
    """

    def __init__(self, routes: Sequence[Route], request_id: str) -> None:
        self._routes = list(routes)
        self.route = self._routes[0]
        self._request_id = request_id  # for the log: a stream's thread has no request context

    def first_to_answer(self, start: Callable[[Route], T]) -> T:
        """What `start` got from the first route that answered; the last one's error if none."""
        for route, then in zip(self._routes, [*self._routes[1:], None], strict=True):
            self.route = route
            try:
                return self._retried_once(start)
            except (ProviderUnavailable, ProviderTimeout) as exc:
                if then is None:
                    raise
                log.warning("request %s: %s did not answer (%s); trying %s instead",
                            self._request_id, route.name, exc, then.name)  # fmt: skip
        raise AssertionError("unreachable: the last route's error is raised")

    def _retried_once(self, start: Callable[[Route], T]) -> T:
        try:
            return start(self.route)
        except ProviderUnavailable as exc:
            log.warning(
                "request %s: %s: %s; trying once more", self._request_id, self.route.name, exc
            )
            return start(self.route)


def routed_chunks(
    routes: Fallbacks, messages: Sequence[Message], options: ChatOptions
) -> Iterator[Chunk]:
    """The chunks of the first route that sends one; after that, a failure is the stream's."""

    def begin(route: Route) -> tuple[Chunk | None, Iterator[Chunk]]:
        chunks = route.target.provider.stream(messages, route.model, options)
        try:
            return next(chunks, None), chunks
        except BaseException:
            chunks.close()  # type: ignore[attr-defined]  # streams are generators
            raise

    first, rest = routes.first_to_answer(begin)
    with closing(rest):  # type: ignore[type-var]  # streams are generators
        if first is not None:
            yield first
            yield from rest
