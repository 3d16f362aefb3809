"""The app's LLM providers, and the one way every entry point gets an answer from them.

`chat()` and `stream()` route a model name to its provider (SPEC section 15), with the
retries and fallbacks of `services/fallbacks.py`. The chat turn and the OpenAI gateway both
call them, for an Account: its token quota is checked before the provider is called, and the
call is counted (usage row and metrics) however it ends (SPEC section 16).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import NoReturn

from flask import Flask, current_app, g

from chatapp.config import read_environment
from chatapp.errors import BadRequest, NotFound
from chatapp.errors import ModelNotFound as ModelNotFoundError
from chatapp.providers import (
    ChatOptions,
    Message,
    ModelInfo,
    ModelNotFound,
    Registry,
    Reply,
    Route,
    create_registry,
)
from chatapp.providers.providers_file import Price
from chatapp.services import quotas, usage
from chatapp.services.call_meter import CallMeter, Count, MeteredFeed
from chatapp.services.fallbacks import Fallbacks, routed_chunks
from chatapp.services.model_lists import ModelLists, ProviderModels
from chatapp.services.provider_feed import read_provider
from chatapp.services.quotas import Account

REGISTRY_KEY = "chatapp.providers"
MODEL_LISTS_KEY = "chatapp.model_lists"


def init_app(app: Flask) -> None:
    """Build the providers once: each owns the pooled HTTP session every request shares."""
    # api_key_env names a variable of the environment (or .env), or a create_app override.
    settings = {name: value for name, value in app.config.items() if isinstance(value, str)}
    registry = create_registry(app.config, {**read_environment(), **settings})
    app.extensions[REGISTRY_KEY] = registry
    app.extensions[MODEL_LISTS_KEY] = ModelLists(registry)


def registry() -> Registry:
    return current_app.extensions[REGISTRY_KEY]


def model_lists() -> ModelLists:
    return current_app.extensions[MODEL_LISTS_KEY]


def default_model() -> str:
    """The default model's name, as the API shows it."""
    return registry().default.name


def resolve_model(requested: str | None) -> str:
    """The name of the model a request names (None: the default), as the API shows it."""
    return registry().route(requested).name


def provider_name() -> str:
    """The default provider's name (its type, without a providers file)."""
    return registry().default.target.name


@dataclass(frozen=True)
class ListedModel:
    """A model some provider has, under the name the API shows."""

    name: str
    provider: str
    info: ModelInfo


@dataclass(frozen=True)
class Listing:
    """Every provider's models; with a providers file, each one's list (and error, if any)."""

    models: list[ListedModel]
    providers: list[ProviderModels] | None


def list_models() -> Listing:
    """Every provider's models; with one provider and no file, its failure is the answer's."""
    lists = model_lists().all()
    failed = next((listed.error for listed in lists if listed.error is not None), None)
    if failed is not None and not registry().qualified:
        raise failed
    models = [
        ListedModel(
            registry().public_name(listed.provider.name, info.name), listed.provider.name, info
        )
        for listed in lists
        for info in listed.models
    ]
    return Listing(models, lists if registry().qualified else None)


def find_model(name: str) -> ListedModel:
    """One listed model by the name the API shows; NotFound when no provider lists it."""
    found = next((model for model in list_models().models if model.name == name), None)
    if found is None:
        raise NotFound(f"Model '{name}' not found")
    return found


def chat(
    messages: Sequence[Message],
    model: str | None,
    options: ChatOptions,
    *,
    account: Account,
    count: Count = usage.record,
) -> Reply:
    """The whole answer; its `model` names the model that answered, as the API shows it.

    The call's usage goes to `count` (a turn holds it, to write it with the turn).
    """
    routes, meter = _begin(messages, model, options, account, count)
    try:
        reply = routes.first_to_answer(lambda r: r.target.provider.chat(messages, r.model, options))
    except Exception as exc:
        _failed(meter, routes, exc)
    # Counted under the route that answered, as streams are, where the providers file's
    # prices are: a reply may name a dated variant ("gpt-4o-2024-08-06").
    meter.first_token(routes.route.name)
    meter.answered(routes.route.name, reply.usage)
    return replace(reply, model=routes.route.public(reply.model or routes.route.model))


@dataclass
class Streaming:
    """A streamed answer that has begun: its events, and which model is answering."""

    feed: MeteredFeed
    routes: Fallbacks

    @property
    def model(self) -> str:
        """The answering model, as the API shows it; final once the first token arrived."""
        return self.routes.route.name


def stream(
    messages: Sequence[Message],
    model: str | None,
    options: ChatOptions,
    *,
    account: Account,
    count: Count = usage.record,
) -> Streaming:
    """The answer as it streams; close its feed when done, which counts the call.

    A failure before the first chunk (within a ping interval) is raised here, so the response
    still gets its proper status.
    """
    routes, meter = _begin(messages, model, options, account, count)
    chunks = routed_chunks(routes, messages, options)
    try:
        feed = read_provider(chunks, current_app.config["STREAM_PING_SECONDS"])
    except Exception as exc:
        _failed(meter, routes, exc)
    return Streaming(MeteredFeed(feed, meter, lambda: routes.route.name), routes)


def _begin(
    messages: Sequence[Message],
    model: str | None,
    options: ChatOptions,
    account: Account,
    count: Count,
) -> tuple[Fallbacks, CallMeter]:
    """The call's routes, once its quota allows it; from here on, the call counts."""
    routes = Fallbacks(_routes(messages, model, options), g.get("request_id", "-"))
    quotas.check(account)
    return routes, CallMeter(account, price_of, count)


def _failed(meter: CallMeter, routes: Fallbacks, exc: Exception) -> NoReturn:
    """Count the failed call, then raise its error (an unknown model's as the API's 400)."""
    meter.failed(routes.route.name, exc)
    if isinstance(exc, ModelNotFound):
        raise model_not_found(routes.route) from exc
    raise exc


def price_of(model: str) -> Price | None:
    """The providers file's price of `model` (as the API names it), if it gives one."""
    return registry().price(model)


def model_not_found(route: Route) -> ModelNotFoundError:
    """The 400 for a model its provider doesn't have: what it has, and where the default is set."""
    listed = model_lists().of(route.target.name)
    has = ", ".join(route.public(name) for name in listed.names()) or "no models"
    if listed.error is not None:
        has = f"models it could not list ({listed.error})"
    return ModelNotFoundError(
        f"Model '{route.name}' is not on provider '{route.target.name}', which has {has}. "
        f"Name one of these, or change the default model with {registry().default_setting}."
    )


def _routes(messages: Sequence[Message], model: str | None, options: ChatOptions) -> list[Route]:
    """The requested model's route, then those of its fallbacks that can take this request."""
    route = registry().route(model)
    allowed = route.target.allowed
    if allowed is not None and route.model not in allowed:
        raise model_not_found(route)
    field = route.target.provider.unsupported(messages, options)
    if field:
        kind = route.target.kind
        raise BadRequest(f"'{field}' is not supported by {route.name} (a {kind} provider)")
    fallbacks = registry().fallbacks(route)
    return [route, *(r for r in fallbacks if not r.target.provider.unsupported(messages, options))]
