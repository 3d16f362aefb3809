"""HTTP API: one blueprint per resource."""

from flask import Flask


def init_app(app: Flask) -> None:
    from chatapp.api import chat, meta, models, openai_compat, prompts, users

    for module in (meta, users, prompts, chat, models, openai_compat):
        app.register_blueprint(module.bp)
