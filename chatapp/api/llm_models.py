"""`GET /models`: what the configured provider can run."""

from __future__ import annotations

from flask import Blueprint

from chatapp.openapi import api_spec, documented
from chatapp.schemas.chat import ModelOut, ModelsResponse
from chatapp.services import llm

bp = Blueprint("models", __name__)


@bp.get("/models")
@api_spec.validate(resp=documented(200, ModelsResponse, 502, 503, 504), tags=["chat"])
def list_models() -> ModelsResponse:
    return ModelsResponse(
        provider=llm.provider_name(),
        default_model=llm.default_model(),
        models=[ModelOut.of(info) for info in llm.list_models()],
    )
