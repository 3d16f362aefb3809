"""`GET /models`: what every configured provider can run."""

from __future__ import annotations

from flask import Blueprint

from chatapp.errors import api_error
from chatapp.openapi import api_spec, documented
from chatapp.schemas.chat import ModelOut, ModelsResponse, ProviderErrorOut, ProviderListed
from chatapp.services import llm
from chatapp.services.model_lists import ProviderModels

bp = Blueprint("models", __name__)


@bp.get("/models")
@api_spec.validate(resp=documented(200, ModelsResponse, 502, 503, 504), tags=["chat"])
def list_models() -> ModelsResponse:
    listing = llm.list_models()
    return ModelsResponse(
        provider=llm.provider_name(),
        default_model=llm.default_model(),
        models=[ModelOut.of(m.name, m.provider, m.info) for m in listing.models],
        providers=providers_listed(listing),
    )


def providers_listed(listing: llm.Listing) -> list[ProviderListed] | None:
    """Each provider's status, when there are several (a providers file)."""
    if listing.providers is None:
        return None
    return [provider_listed(listed) for listed in listing.providers]


def provider_listed(listed: ProviderModels) -> ProviderListed:
    """A provider's status in a model list: a failure shows as the API error it would be."""
    named = listed.provider
    if listed.error is None:
        return ProviderListed(name=named.name, type=named.kind, status="ok")
    error = api_error(listed.error)
    return ProviderListed(
        name=named.name,
        type=named.kind,
        status="down",
        error=ProviderErrorOut(code=error.code, message=error.message),
    )
