"""One chat turn: the context sent to the provider, the call, and the turn stored afterwards."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import Row

from chatapp.db_types import utcnow
from chatapp.errors import ChatNotFound, Conflict, ValidationFailed
from chatapp.extensions import db
from chatapp.models import User
from chatapp.providers import ChatOptions, Reply, Usage
from chatapp.providers import Message as ContextMessage
from chatapp.services import chats, llm, prompts, quotas, tree, usage
from chatapp.services.chats import TurnIds
from chatapp.services.message_ids import new_ids
from chatapp.services.turn_events import Delta, Done, Failed, Started, TurnEvents

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TurnRequest:
    message: str
    chat_id: str | None = None
    model: str | None = None
    temperature: float | None = None
    system_prompt_id: str | None = None
    parent_id: str | None = None  # edit and resend: the new message follows this one


@dataclass(frozen=True)
class RegenerateRequest:
    """Another answer to the user message that `message_id` (default: the leaf) answers."""

    chat_id: str
    message_id: str | None = None
    model: str | None = None
    temperature: float | None = None


AnyTurnRequest = TurnRequest | RegenerateRequest


@dataclass(frozen=True)
class PreparedTurn:
    """Everything a turn needs once the request's database work is over."""

    user_id: int  # read before the commit, which expires the User
    chat_id: str
    model: str
    options: ChatOptions
    context: list[ContextMessage]  # what the provider gets, cut to MAX_CONTEXT_CHARS
    system_prompt: str | None  # the chat's system message, stored if this turn creates the chat
    message: str | None  # None for a regenerate, whose user message is stored already
    sent_at: datetime
    chat_existed: bool  # so that storing the turn tries the right statement first
    ids: TurnIds
    user_message_id: int  # the message the reply answers: the new one, or a regenerate's

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
            finish_reason=chats.storable_finish_reason(finish),
            ids=self.ids,
            chat_existed=self.chat_existed,
        )


@dataclass(frozen=True)
class TurnResult:
    chat_id: str
    reply: Reply
    message_id: int
    user_message_id: int


def reply(user: User, request: AnyTurnRequest) -> TurnResult:
    """A whole turn, answered in one piece and then stored.

    A provider failure propagates (chatapp.errors maps it), and nothing is stored. The call's
    usage is written by the statement that stores the turn where it can, else on its own.
    """
    account = quotas.account_of(user)  # before _prepare's commit expires the user
    turn = _prepare(user, request)
    call = usage.HeldCall()
    try:
        answer = llm.chat(turn.context, turn.model, turn.options, account=account, count=call.hold)
        # Its model is the one that answered.
        record = turn.record(answer.content, answer.model, answer.usage, answer.finish_reason)
        chats.store_turn(record, call)
    finally:
        call.write()  # unless the turn's statement wrote it
    return TurnResult(turn.chat_id, answer, turn.ids.reply, turn.user_message_id)


def stream(user: User, request: AnyTurnRequest) -> TurnEvents:
    """A turn as events, stored once at its end: Started, Delta and Ping, then Done or Failed.

    A failure before the provider's first chunk is raised here, not yielded, so the response
    still gets its proper status instead of a 200 stream.
    """
    account = quotas.account_of(user)  # before _prepare's commit expires the user
    turn = _prepare(user, request)
    call = usage.HeldCall()
    try:
        streaming = llm.stream(
            turn.context, turn.model, turn.options, account=account, count=call.hold
        )
    except BaseException:
        call.write()  # the failed call, counted before its error is raised
        raise
    return _events(turn, streaming, call)


def _prepare(user: User, request: AnyTurnRequest) -> PreparedTurn:
    """Read what the turn needs, then end the transaction before the (slow) provider call."""
    if isinstance(request, RegenerateRequest):
        turn = _prepare_regenerate(user, request)
    else:
        turn = _prepare_turn(user, request)
    db.session.commit()  # so no pooled connection waits on the LLM with this request
    return turn


def _prepare_turn(user: User, request: TurnRequest) -> PreparedTurn:
    """A new user message after the current leaf, or after `parent_id` (edit and resend)."""
    config = current_app.config
    _check_length(request.message, config["MAX_MESSAGE_CHARS"])
    chat_id = chats.check_chat_id(request.chat_id) if request.chat_id else chats.new_chat_id()
    anchor = tree.parse_id(request.parent_id) if request.parent_id else None
    read = tree.read_path(user.id, chat_id, anchor)
    if request.parent_id and not read.path:
        raise tree.MessageNotFound(request.parent_id)
    history = _history(user, read, request.system_prompt_id)
    message = ContextMessage("user", request.message)
    system, message_id, reply_id = new_ids(3)  # in this order, so that ids follow the tree
    return PreparedTurn(
        user_id=user.id,
        chat_id=chat_id,
        model=llm.resolve_model(request.model),
        options=ChatOptions(temperature=request.temperature),
        context=fit_context(history, message, config["MAX_CONTEXT_CHARS"]),
        system_prompt=next((m.content for m in history if m.role == "system"), None),
        message=request.message,
        sent_at=utcnow(),
        chat_existed=read.chat_pk is not None,
        ids=_turn_ids(read, system, message_id, reply_id),
        user_message_id=message_id,
    )


def _turn_ids(read: tree.PathRead, system: int, message: int, reply_id: int) -> TurnIds:
    if read.chat_pk is None:  # a new chat: its system message is the root
        return TurnIds(parent=system, user=message, reply=reply_id, system=system)
    return TurnIds(parent=read.path[-1].id if read.path else None, user=message, reply=reply_id)


def _prepare_regenerate(user: User, request: RegenerateRequest) -> PreparedTurn:
    """A new reply, a sibling of the old one: the context ends with the message it answers."""
    chat_id = chats.check_chat_id(request.chat_id)
    anchor = tree.parse_id(request.message_id) if request.message_id else None
    read = tree.read_path(user.id, chat_id, anchor)
    if read.chat_pk is None:
        raise ChatNotFound(chat_id)
    if request.message_id and not read.path:
        raise tree.MessageNotFound(request.message_id)
    *earlier, question = _answered(read.path)
    history = [ContextMessage(row.role, row.content) for row in earlier]
    message = ContextMessage("user", question.content)
    (reply_id,) = new_ids(1)
    return PreparedTurn(
        user_id=user.id,
        chat_id=chat_id,
        model=llm.resolve_model(request.model),
        options=ChatOptions(temperature=request.temperature),
        context=fit_context(history, message, current_app.config["MAX_CONTEXT_CHARS"]),
        system_prompt=None,
        message=None,
        sent_at=utcnow(),
        chat_existed=True,
        ids=TurnIds(parent=question.id, user=None, reply=reply_id),
        user_message_id=question.id,
    )


def _answered(path: list[Row]) -> list[Row]:
    """The path down to the user message that the path's last message (a reply) answers."""
    if len(path) < 2 or path[-1].role != "assistant" or path[-2].role != "user":
        raise Conflict("Only a reply to a user message can be regenerated")
    return path[:-1]


def _events(turn: PreparedTurn, streaming: llm.Streaming, call: usage.HeldCall) -> TurnEvents:
    parts: list[str] = []  # the reply as far as the client was sent it
    feed = streaming.feed
    try:
        yield Started(streaming.model, turn.chat_id, turn.user_message_id)
        for event in feed:
            if isinstance(event, Delta):
                parts.append(event.content)
            if isinstance(event, Done):
                feed.count()  # now, for the statement that stores the turn to write it
                yield _store_streamed(turn, "".join(parts), event, streaming.model, call)
            else:
                yield event
    except GeneratorExit:
        # The client went away (noticed on a write): keep what it was sent, marked cancelled.
        if not feed.ended:
            _store_cancelled(turn, "".join(parts), streaming.model)
        raise
    finally:
        feed.close()
        call.write()  # unless the turn's statement wrote it


def _store_streamed(
    turn: PreparedTurn, text: str, done: Done, model: str, call: usage.HeldCall
) -> Done | Failed:
    """Store the whole turn, then say Done (so a client that sees it can read it back)."""
    record = turn.record(text, model, done.usage, done.finish_reason)
    try:
        chats.store_turn(record, call)
    except Exception as exc:  # the stream's status is sent: the failure is its last event
        return Failed(exc)
    return Done(done.usage, record.finish_reason, turn.chat_id, model, turn.ids.reply)


def _store_cancelled(turn: PreparedTurn, text: str, model: str) -> None:
    try:
        chats.store_turn(turn.record(text, model, Usage(), "cancelled"))
    except Exception:  # we are inside close(): log, never raise
        log.exception("chat %s: storing the cancelled turn failed", turn.chat_id)


def _check_length(message: str, limit: int) -> None:
    if len(message) > limit:
        detail = {"field": "message", "message": f"at most {limit} characters are accepted"}
        raise ValidationFailed(details=[detail])


def _history(user: User, read: tree.PathRead, prompt_id: str | None) -> list[ContextMessage]:
    """The branch up to the new message, or the system-prompt snapshot a new chat starts with."""
    if read.chat_pk is None:
        return [ContextMessage("system", prompts.system_prompt_for_new_chat(user, prompt_id))]
    return [ContextMessage(row.role, row.content) for row in read.path]


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
