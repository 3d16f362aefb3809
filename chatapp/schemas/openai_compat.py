"""Shapes of the OpenAI-compatible gateway, as OpenAI's own API names them."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from chatapp.providers import ChatOptions, Message, ModelInfo, ToolCall, Usage
from chatapp.schemas.chat import ModelName, ProviderListed
from chatapp.schemas.common import JsonInt

Role = Literal["system", "developer", "user", "assistant", "tool"]
FunctionName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
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


class FunctionCallIn(OpenAIRequest):
    name: FunctionName
    arguments: str = Field(description="The arguments, as JSON text")


class ToolCallIn(OpenAIRequest):
    id: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    type: Literal["function"] = "function"
    function: FunctionCallIn

    def call(self) -> ToolCall:
        return ToolCall(self.id, self.function.name, self.function.arguments)


class MessageIn(OpenAIRequest):
    """What every message of a request has. Each kind is a model of its own, told apart by
    `role`, so that the OpenAPI document says exactly what each one needs."""

    content: str | list[TextPart] = Field(description="Text, or a list of text parts")

    def _text(self) -> str:
        if self.content is None or isinstance(self.content, str):
            return self.content or ""
        return "\n".join(part.text for part in self.content)


class PlainMessageIn(MessageIn):
    role: Literal["system", "developer", "user"] = Field(
        description='"developer" is taken as "system"'
    )

    def message(self) -> Message:
        return Message("system" if self.role == "developer" else self.role, self._text())


# The document says what the validator checks: text, or some tool calls (or both).
_SOME_TOOL_CALLS = {"type": "array", "minItems": 1}
_CONTENT_OR_TOOL_CALLS = {
    "anyOf": [
        {"required": ["content"], "properties": {"content": {"not": {"type": "null"}}}},
        {"required": ["tool_calls"], "properties": {"tool_calls": _SOME_TOOL_CALLS}},
    ]
}


class AssistantMessageIn(MessageIn):
    model_config = ConfigDict(json_schema_extra=_CONTENT_OR_TOOL_CALLS)

    role: Literal["assistant"]
    content: str | list[TextPart] | None = Field(  # type: ignore[assignment]
        None, description="Text, or a list of text parts; null (or absent) with tool_calls"
    )
    tool_calls: list[ToolCallIn] | None = Field(None, description="The tool calls it made")

    @model_validator(mode="after")
    def _says_something(self) -> AssistantMessageIn:
        if self.content is None and not self.tool_calls:
            raise ValueError("an assistant message needs content or tool_calls")
        return self

    def message(self) -> Message:
        calls = tuple(call.call() for call in self.tool_calls or ())
        return Message("assistant", self._text(), tool_calls=calls)


class ToolMessageIn(MessageIn):
    role: Literal["tool"]
    tool_call_id: Annotated[str, StringConstraints(min_length=1)] = Field(
        description="The call this message answers"
    )

    def message(self) -> Message:
        return Message("tool", self._text(), tool_call_id=self.tool_call_id)


ChatMessageIn = Annotated[
    PlainMessageIn | AssistantMessageIn | ToolMessageIn, Field(discriminator="role")
]


class PassedOn(BaseModel):
    """A part of the request handed to the provider as sent, with every field kept."""

    model_config = ConfigDict(extra="allow", strict=True)

    def wire(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


class FunctionDefinition(PassedOn):
    name: FunctionName
    description: str | None = None
    parameters: dict[str, Any] | None = Field(None, description="A JSON schema")


class Tool(PassedOn):
    type: Literal["function"]
    function: FunctionDefinition


class NamedFunction(PassedOn):
    name: FunctionName


class NamedToolChoice(PassedOn):
    type: Literal["function"]
    function: NamedFunction


class JsonSchemaFormat(PassedOn):
    name: str
    schema_: dict[str, Any] = Field(alias="schema")

    def wire(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True, by_alias=True)


class TextFormat(PassedOn):
    type: Literal["text", "json_object"]

    def wire(self) -> dict[str, Any]:
        return {"type": self.type}


class JsonSchemaResponseFormat(PassedOn):
    type: Literal["json_schema"]
    json_schema: JsonSchemaFormat

    def wire(self) -> dict[str, Any]:
        return {"type": self.type, "json_schema": self.json_schema.wire()}


ResponseFormat = Annotated[TextFormat | JsonSchemaResponseFormat, Field(discriminator="type")]


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
    tools: list[Tool] | None = Field(None, description="Passed on; 400 where unsupported")
    tool_choice: Literal["none", "auto", "required"] | NamedToolChoice | None = None
    response_format: ResponseFormat | None = None

    def context(self) -> list[Message]:
        return [message.message() for message in self.messages]

    def options(self) -> ChatOptions:
        choice = self.tool_choice
        return ChatOptions(
            temperature=self.temperature,
            max_tokens=self.max_completion_tokens or self.max_tokens,
            top_p=self.top_p,
            stop=(self.stop,) if isinstance(self.stop, str) else tuple(self.stop or ()),
            tools=tuple(tool.wire() for tool in self.tools or ()),
            tool_choice=choice.wire() if isinstance(choice, NamedToolChoice) else choice,
            response_format=self.response_format.wire() if self.response_format else None,
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


class FunctionCallOut(BaseModel):
    name: str
    arguments: str


class ToolCallOut(BaseModel):
    id: str
    type: Literal["function"] = "function"
    function: FunctionCallOut

    @classmethod
    def of(cls, call: ToolCall) -> ToolCallOut:
        return cls(id=call.id, function=FunctionCallOut(name=call.name, arguments=call.arguments))


class AssistantMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str | None
    tool_calls: list[ToolCallOut] | None = Field(None, exclude_if=_is_none)


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


class ToolCallDelta(ToolCallOut):
    """A whole tool call in a stream; `index` tells the calls apart, as OpenAI's do."""

    index: int


class Delta(BaseModel):
    role: Literal["assistant"] | None = Field(None, exclude_if=_is_none)
    content: str | None = Field(None, exclude_if=_is_none)
    tool_calls: list[ToolCallDelta] | None = Field(None, exclude_if=_is_none)


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
    def of(cls, name: str, info: ModelInfo, owner: str) -> ModelObject:
        return cls(id=name, created=_created(info.details), owned_by=owner)


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
    providers: list[ProviderListed] | None = Field(
        None, exclude_if=_is_none, description="With several providers: each one's status"
    )
