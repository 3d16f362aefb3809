"""HTTP API: one blueprint per resource."""

from flask import Flask


def register_blueprints(app: Flask) -> None:
    from chatapp.api import meta, users

    for module in (meta, users):
        app.register_blueprint(module.bp)
