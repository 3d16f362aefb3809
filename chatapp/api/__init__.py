"""HTTP API: one blueprint per resource."""

from flask import Flask


def init_app(app: Flask) -> None:
    from chatapp.api import chat, llm_models, meta, openai_compat, prompts, users

    for module in (meta, users, prompts, chat, llm_models, openai_compat):
        app.register_blueprint(module.bp)
