"""Shapes of the chat, history and models endpoints."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Literal, Protocol

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from chatapp.models import Chat
from chatapp.providers import ModelInfo, Reply, Usage
from chatapp.schemas.common import NoNul, StrictModel


def _is_none(value: object) -> bool:
    return value is None


MAX_OFFSET = 2**31 - 1  # any database's integer holds it; no one pages that far

ChatId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Text = Annotated[str, StringConstraints(min_length=1, pattern=r"\S"), NoNul]
ModelName = Annotated[str, StringConstraints(pattern=r"^\S{1,200}$"), NoNul]
PromptId = Annotated[str, StringConstraints(min_length=1, max_length=100), NoNul]
Title = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=r"\S"),
    NoNul,
]
SearchText = Annotated[str, StringConstraints(max_length=200), NoNul]
# Opaque to clients; one that names no message of the chat is 404 `not_found`.
MessageId = Annotated[str, StringConstraints(min_length=1, max_length=64), NoNul]
Temperature = Annotated[float, Field(ge=0, le=2)]


# What `_needs_chat_id` checks, in the schema's own words, so /openapi.json says it too.
PARENT_NEEDS_CHAT = {
    "if": {"properties": {"parent_id": {"type": "string"}}, "required": ["parent_id"]},
    "then": {"properties": {"chat_id": {"type": "string"}}, "required": ["chat_id"]},
}


class ChatRequest(StrictModel):
    model_config = ConfigDict(**StrictModel.model_config, json_schema_extra=PARENT_NEEDS_CHAT)

    message: Text
    chat_id: ChatId | None = None
    stream: bool = False
    model: ModelName | None = None
    temperature: Temperature | None = None
    system_prompt_id: PromptId | None = None
    parent_id: MessageId | None = Field(
        None,
        description="Edit and resend: the new message follows this one of the chat's messages "
        "(a sibling of the message that followed it); needs chat_id",
    )

    @field_validator("parent_id")
    @classmethod
    def _needs_chat_id(cls, parent_id: str | None, info: ValidationInfo) -> str | None:
        if parent_id is not None and info.data.get("chat_id") is None:
            raise ValueError("parent_id needs chat_id")
        return parent_id


class RegenerateRequest(StrictModel):
    """Another answer to the user message that `message_id` answers, as a sibling of it."""

    chat_id: ChatId
    message_id: MessageId | None = Field(
        None, description="An assistant message of the chat; default: the current leaf"
    )
    stream: bool = False
    model: ModelName | None = None
    temperature: Temperature | None = None


class SwitchBranch(StrictModel):
    message_id: MessageId = Field(
        description="The current branch becomes the path to it, down to its newest leaf"
    )


class UsageOut(BaseModel):
    prompt_tokens: int | None
    completion_tokens: int | None

    @classmethod
    def of(cls, usage: Usage) -> UsageOut:
        return cls(prompt_tokens=usage.prompt_tokens, completion_tokens=usage.completion_tokens)


class ChatResponse(BaseModel):
    """The JSON answer; with streaming, the same turn arrives as Server-Sent Events instead."""

    success: Literal[True] = True
    chat_id: str
    response: str
    model: str
    usage: UsageOut
    finish_reason: str | None
    message_id: str = Field(description="The stored reply")
    user_message_id: str = Field(description="The user message it answers")

    @classmethod
    def of(cls, chat_id: str, reply: Reply, message_id: int, user_message_id: int) -> ChatResponse:
        return cls(
            chat_id=chat_id,
            response=reply.content,
            model=reply.model,
            usage=UsageOut.of(reply.usage),
            finish_reason=reply.finish_reason,
            message_id=str(message_id),
            user_message_id=str(user_message_id),
        )


class StreamStart(BaseModel):
    """`event: start`: the turn began, in this chat, with this model."""

    chat_id: str
    model: str
    user_message_id: str = Field(description="The user message the reply answers")


class StreamDelta(BaseModel):
    """`event: delta`: the next piece of the reply, as the provider sent it."""

    content: str


class StreamDone(BaseModel):
    """`event: done`: the turn is over and stored."""

    chat_id: str
    usage: UsageOut
    finish_reason: str | None
    model: str  # the model that answered: a fallback's, if one took over
    message_id: str = Field(description="The stored reply")


class StreamErrorBody(BaseModel):
    code: str
    message: str


class StreamError(BaseModel):
    """`event: error`: the turn failed after its status was sent; the last event."""

    error: StreamErrorBody


# The SSE events of a streamed `POST /chat`, by name, as /openapi.json documents them.
CHAT_EVENTS: dict[str, type[BaseModel]] = {
    "start": StreamStart,
    "delta": StreamDelta,
    "done": StreamDone,
    "error": StreamError,
}


class HistoryQuery(BaseModel):
    limit: int = Field(100, ge=1, le=500)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)
    q: SearchText | None = Field(None, description="Matches titles and message text")


class ListedChatFields(Protocol):
    """What the list reads of each chat (the chat service's ListedChat)."""

    chat_id: str
    title: str
    model: str | None
    created_at: datetime
    updated_at: datetime
    message_count: int


class ChatSummary(BaseModel):
    id: str
    title: str
    created_at: datetime
    updated_at: datetime
    message_count: int = Field(
        description="User and assistant messages of the current branch; the system one is not"
    )
    model: str | None

    @classmethod
    def of(cls, chat: ListedChatFields) -> ChatSummary:
        # Typed values read from our own columns: nothing to validate.
        return cls.model_construct(
            id=chat.chat_id,
            title=chat.title,
            created_at=chat.created_at,
            updated_at=chat.updated_at,
            message_count=chat.message_count,
            model=chat.model,
        )


class HistoryListResponse(BaseModel):
    success: Literal[True] = True
    chats: dict[str, ChatSummary] = Field(description="Keyed by chat_id, newest first")
    total: int

    @classmethod
    def of(cls, page: Sequence[ListedChatFields], total: int) -> HistoryListResponse:
        """`page`: newest first. Built unvalidated, like each ChatSummary, and returned as
        is: spectree then serialises it without validating it again."""
        chats = {chat.chat_id: ChatSummary.of(chat) for chat in page}
        return cls.model_construct(chats=chats, total=total)


class StoredMessageFields(Protocol):
    """What a message shows of itself (the Message row, or a branch's message)."""

    id: int
    parent_id: int | None
    role: str
    content: str
    created_at: datetime
    model: str | None
    finish_reason: str | None


class BranchMessageFields(StoredMessageFields, Protocol):
    sibling_ids: tuple[int, ...]


def _message_id(message_id: int | None) -> str | None:
    return None if message_id is None else str(message_id)


class ExportedMessage(BaseModel):
    id: str
    parent_id: str | None = Field(description="Null for the root, the system message")
    role: str
    content: str
    timestamp: datetime
    model: str | None = Field(None, exclude_if=_is_none)
    finish_reason: str | None = Field(None, exclude_if=_is_none)

    @classmethod
    def fields_of(cls, message: StoredMessageFields) -> dict[str, Any]:
        return {
            "id": str(message.id),
            "parent_id": _message_id(message.parent_id),
            "role": message.role,
            "content": message.content,
            "timestamp": message.created_at,
            "model": message.model,
            "finish_reason": message.finish_reason,
        }

    @classmethod
    def of(cls, message: StoredMessageFields) -> ExportedMessage:
        return cls(**cls.fields_of(message))


class HistoryMessage(ExportedMessage):
    sibling_ids: list[str] = Field(
        description="Every message with the same parent, oldest first, this one included"
    )

    @classmethod
    def of_branch(cls, message: BranchMessageFields) -> HistoryMessage:
        siblings = [str(sibling) for sibling in message.sibling_ids]
        return cls(**cls.fields_of(message), sibling_ids=siblings)


class ChatFields(BaseModel):
    id: str
    custom_id: str
    title: str
    model: str | None
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def fields_of(chat: Chat) -> dict[str, Any]:
        return {
            "id": chat.chat_id,
            "custom_id": chat.chat_id,
            "title": chat.title,
            "model": chat.model,
            "created_at": chat.created_at,
            "updated_at": chat.updated_at,
        }


class ChatHistory(ChatFields):
    messages: list[HistoryMessage] = Field(description="The current branch, root first")

    @classmethod
    def of(cls, chat: Chat, branch: Sequence[BranchMessageFields]) -> ChatHistory:
        messages = [HistoryMessage.of_branch(message) for message in branch]
        return cls(**cls.fields_of(chat), messages=messages)


class ChatTree(ChatFields):
    """The JSON export: every message of the chat's tree, in the order they were written."""

    current_message_id: str | None = Field(description="The leaf of the current branch")
    messages: list[ExportedMessage]

    @classmethod
    def of(cls, chat: Chat, messages: Sequence[StoredMessageFields]) -> ChatTree:
        return cls(
            **cls.fields_of(chat),
            current_message_id=_message_id(chat.current_message_id),
            messages=[ExportedMessage.of(message) for message in messages],
        )


class ChatHistoryResponse(BaseModel):
    success: Literal[True] = True
    chat_id: str
    history: ChatHistory


class BranchDeletedResponse(ChatHistoryResponse):
    """The chat as `GET /chat/history/<chat_id>` shows it once the branch is gone."""

    message: str


class RenameChat(StrictModel):
    title: Title


class ChatRenamedResponse(BaseModel):
    success: Literal[True] = True
    chat_id: str
    title: str
    message: str


class ExportQuery(BaseModel):
    format: Literal["markdown", "json"] = "markdown"


class ModelOut(BaseModel):
    """A model's name, its provider and the provider's name for it, plus what else it says."""

    model_config = ConfigDict(extra="allow")

    name: str = Field(description="What to send as `model`: `<provider>/<model>` with a file")
    provider: str
    model: str

    @classmethod
    def of(cls, name: str, provider: str, info: ModelInfo) -> ModelOut:
        details: dict[str, Any] = {
            k: v for k, v in info.details.items() if k not in ("name", "provider", "model")
        }
        return cls(name=name, provider=provider, model=info.name, **details)


class ProviderErrorOut(BaseModel):
    code: str
    message: str


class ProviderListed(BaseModel):
    """Whether a provider could list its models; a provider that is down says why."""

    name: str
    type: str
    status: Literal["ok", "down"]
    error: ProviderErrorOut | None = Field(None, exclude_if=_is_none)


class ModelsResponse(BaseModel):
    success: Literal[True] = True
    provider: str = Field(description="The default model's provider")
    default_model: str
    models: list[ModelOut]
    providers: list[ProviderListed] | None = Field(
        None, exclude_if=_is_none, description="With several providers: each one's status"
    )
