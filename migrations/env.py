"""Alembic environment: run migrations with the Flask app's engine and models' metadata."""

from alembic import context
from flask import current_app

import chatapp.models  # noqa: F401 - registers the tables on the metadata

config = context.config
# No fileConfig(): it would disable the app's loggers when migrations run in-process.
target_db = current_app.extensions["migrate"].db


def _options() -> dict:
    return {
        "target_metadata": target_db.metadata,
        "render_as_batch": True,  # SQLite can't ALTER most things; batch mode recreates tables
        "compare_type": True,
        **current_app.extensions["migrate"].configure_args,
    }


def run_migrations_offline() -> None:
    """Emit SQL (`chatapp db upgrade --sql`): how sql/01_schema.sql is generated."""
    url = target_db.engine.url.render_as_string(hide_password=False)
    context.configure(url=url, literal_binds=True, **_options())
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    with target_db.engine.connect() as connection:
        context.configure(connection=connection, **_options())
        with context.begin_transaction():
            if connection.dialect.name == "postgresql":
                # A migration may rightly run longer than a request's DB_STATEMENT_TIMEOUT.
                connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
