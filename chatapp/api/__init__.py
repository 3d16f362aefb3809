"""HTTP API: one blueprint per resource."""

from flask import Flask


def init_app(app: Flask) -> None:
    from chatapp.api import (
        audit,
        chat,
        llm_models,
        meta,
        metrics,
        openai_compat,
        prompts,
        usage,
        users,
    )

    for module in (meta, users, prompts, chat, llm_models, openai_compat, usage, audit, metrics):
        app.register_blueprint(module.bp)
