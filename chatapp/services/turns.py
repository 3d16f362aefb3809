"""One chat turn: the context sent to the provider, the call, and the turn stored afterwards."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from flask import current_app

from chatapp import llm
from chatapp.db_types import utcnow
from chatapp.errors import ApiError, ValidationFailed, api_error_from_provider
from chatapp.extensions import db
from chatapp.models import User
from chatapp.providers import ChatOptions, Provider, ProviderError, Reply, Usage
from chatapp.providers import Message as ContextMessage
from chatapp.services import chats, prompts

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TurnRequest:
    message: str
    chat_id: str | None = None
    model: str | None = None
    temperature: float | None = None
    system_prompt_id: str | None = None


@dataclass(frozen=True)
class PreparedTurn:
    """Everything a turn needs once the request's database work is over."""

    user_id: int
    chat_id: str
    model: str
    options: ChatOptions
    context: list[ContextMessage]  # what the provider gets, cut to MAX_CONTEXT_CHARS
    system_prompt: str | None  # the chat's system message, stored if this turn creates the chat
    message: str
    sent_at: datetime

    def record(self, reply: str, model: str, usage: Usage, finish: str | None) -> chats.TurnRecord:
        return chats.TurnRecord(
            user_id=self.user_id,
            chat_id=self.chat_id,
            system_prompt=self.system_prompt,
            message=self.message,
            sent_at=self.sent_at,
            reply=reply,
            model=model,
            usage=usage,
            finish_reason=finish,
        )


@dataclass(frozen=True)
class TurnResult:
    chat_id: str
    reply: Reply


def send(user: User, request: TurnRequest) -> TurnResult:
    """A whole turn, answered in one piece."""
    return complete_turn(llm.provider(), prepare_turn(user, request))


def prepare_turn(user: User, request: TurnRequest) -> PreparedTurn:
    """Read what the turn needs, then end the transaction before the (slow) provider call."""
    config = current_app.config
    _check_length(request.message, config["MAX_MESSAGE_CHARS"])
    chat_id = chats.check_chat_id(request.chat_id) if request.chat_id else chats.new_chat_id()
    user_id = user.id
    history = _history(user, user_id, chat_id, request.system_prompt_id)
    message = ContextMessage("user", request.message)
    turn = PreparedTurn(
        user_id=user_id,
        chat_id=chat_id,
        model=llm.resolve_model(request.model),
        options=ChatOptions(temperature=request.temperature),
        context=fit_context(history, message, config["MAX_CONTEXT_CHARS"]),
        system_prompt=next((m.content for m in history if m.role == "system"), None),
        message=request.message,
        sent_at=utcnow(),
    )
    db.session.commit()  # so no pooled connection waits on the LLM with this request
    return turn


def complete_turn(provider: Provider, turn: PreparedTurn) -> TurnResult:
    """Ask the provider, then store the turn; on failure nothing is stored."""
    try:
        reply = provider.chat(turn.context, turn.model, turn.options)
    except ProviderError as exc:
        raise provider_failure(turn, exc) from exc
    record = turn.record(reply.content, reply.model or turn.model, reply.usage, reply.finish_reason)
    chats.store_turn(record)
    return TurnResult(turn.chat_id, reply)


def provider_failure(turn: PreparedTurn, exc: ProviderError) -> ApiError:
    log.warning("provider failed on chat %s (model %s): %s", turn.chat_id, turn.model, exc)
    return api_error_from_provider(exc)


def _check_length(message: str, limit: int) -> None:
    if len(message) > limit:
        detail = {"field": "message", "message": f"at most {limit} characters are accepted"}
        raise ValidationFailed(details=[detail])


def _history(user: User, user_id: int, chat_id: str, prompt_id: str | None) -> list[ContextMessage]:
    """The chat's messages, or the system-prompt snapshot a new chat starts with."""
    existing = chats.conversation(user_id, chat_id)
    if existing is None:
        return [ContextMessage("system", prompts.system_prompt_for_new_chat(user, prompt_id))]
    return [ContextMessage(role, content) for role, content in existing]


def fit_context(
    history: Sequence[ContextMessage], message: ContextMessage, limit: int
) -> list[ContextMessage]:
    """System messages, the newest whole turns that fit in `limit` characters, the message.

    Oldest turns go first; system messages and the new message are always sent.
    """
    system = [m for m in history if m.role == "system"]
    budget = limit - _chars(system) - len(message.content)
    kept: list[list[ContextMessage]] = []
    for turn in reversed(_turns([m for m in history if m.role != "system"])):
        budget -= _chars(turn)
        if budget < 0:
            break
        kept.append(turn)
    return [*system, *(m for turn in reversed(kept) for m in turn), message]


def _turns(messages: Sequence[ContextMessage]) -> list[list[ContextMessage]]:
    """Messages grouped into turns, each starting at a user message."""
    turns: list[list[ContextMessage]] = []
    for message in messages:
        if message.role == "user" or not turns:
            turns.append([message])
        else:
            turns[-1].append(message)
    return turns


def _chars(messages: Sequence[ContextMessage]) -> int:
    return sum(len(m.content) for m in messages)
