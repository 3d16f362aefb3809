"""Shapes of the OpenAI-compatible gateway, as OpenAI's own API names them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from chatapp.providers import ChatOptions, Message, ModelInfo, Usage
from chatapp.schemas.chat import ModelName
from chatapp.schemas.common import JsonInt

Role = Literal["system", "developer", "user", "assistant"]
Temperature = Annotated[float, Field(ge=0, le=2)]
TokenCount = Annotated[int, Field(ge=1, le=2**31 - 1), JsonInt]  # what providers take as an int32


def _is_none(value: object) -> bool:
    return value is None


class OpenAIRequest(BaseModel):
    """OpenAI's clients send fields we don't use: ignore them, but keep types strict."""

    model_config = ConfigDict(extra="ignore", strict=True)


class TextPart(OpenAIRequest):
    type: Literal["text"]
    text: str


class ChatMessageIn(OpenAIRequest):
    role: Role = Field(description='"developer" is taken as "system"')
    content: str | list[TextPart] = Field(description="Text, or a list of text parts")

    def message(self) -> Message:
        role = "system" if self.role == "developer" else self.role
        if isinstance(self.content, str):
            return Message(role, self.content)
        return Message(role, "\n".join(part.text for part in self.content))


class StreamOptions(OpenAIRequest):
    include_usage: bool = False


class ChatCompletionRequest(OpenAIRequest):
    model: ModelName | None = Field(None, description="The default model when absent")
    messages: Annotated[list[ChatMessageIn], Field(min_length=1)]
    temperature: Temperature | None = None
    top_p: Annotated[float, Field(ge=0, le=1)] | None = None
    max_tokens: TokenCount | None = None
    max_completion_tokens: TokenCount | None = Field(None, description="Wins over max_tokens")
    stop: str | Annotated[list[str], Field(max_length=4)] | None = None
    n: Literal[1] | None = Field(None, description="Only one choice is generated")
    stream: bool | None = False
    stream_options: StreamOptions | None = None

    def context(self) -> list[Message]:
        return [message.message() for message in self.messages]

    def options(self) -> ChatOptions:
        return ChatOptions(
            temperature=self.temperature,
            max_tokens=self.max_completion_tokens or self.max_tokens,
            top_p=self.top_p,
            stop=(self.stop,) if isinstance(self.stop, str) else tuple(self.stop or ()),
        )

    @property
    def include_usage(self) -> bool:
        return bool(self.stream_options and self.stream_options.include_usage)


class CompletionUsage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int

    @classmethod
    def of(cls, usage: Usage | None) -> CompletionUsage:
        """OpenAI's clients expect numbers: a count the provider didn't report is 0."""
        usage = usage or Usage()
        prompt, completion = usage.prompt_tokens or 0, usage.completion_tokens or 0
        return cls(
            prompt_tokens=prompt, completion_tokens=completion, total_tokens=prompt + completion
        )


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    index: int = 0
    message: AssistantMessage
    finish_reason: str


class ChatCompletion(BaseModel):
    id: str = Field(description='"chatcmpl-" and a random part')
    object: Literal["chat.completion"] = "chat.completion"
    created: int = Field(description="Unix time, in seconds")
    model: str
    choices: list[Choice]
    usage: CompletionUsage


class Delta(BaseModel):
    role: Literal["assistant"] | None = Field(None, exclude_if=_is_none)
    content: str | None = Field(None, exclude_if=_is_none)


class ChunkChoice(BaseModel):
    index: int = 0
    delta: Delta
    finish_reason: str | None = None


class ChatCompletionChunk(BaseModel):
    """One `data:` event of a streamed completion; the stream ends with `data: [DONE]`."""

    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChunkChoice] = Field(description="Empty in the usage chunk")
    usage: CompletionUsage | None = Field(None, exclude_if=_is_none)


class ModelObject(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = Field(0, description="Unix time; 0 when the provider doesn't say")
    owned_by: str

    @classmethod
    def of(cls, info: ModelInfo, owner: str) -> ModelObject:
        return cls(id=info.name, created=_created(info.details), owned_by=owner)


def _created(details: dict[str, Any]) -> int:
    """OpenAI's `created`, Anthropic's `created_at` or Ollama's `modified_at`, as Unix time."""
    if isinstance(details.get("created"), int):
        return details["created"]
    for key in ("created_at", "modified_at"):
        try:
            return int(datetime.fromisoformat(str(details[key])).timestamp())
        except (KeyError, ValueError):
            continue
    return 0


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelObject]
