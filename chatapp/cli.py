"""The `chatapp` command: Flask's CLI for our app, plus serve, users and keys."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from functools import partial
from pathlib import Path

import click
from click.core import ParameterSource
from flask import Flask, current_app
from flask.cli import FlaskGroup, with_appcontext

from chatapp.app import create_app
from chatapp.config import ConfigError
from chatapp.errors import ApiError
from chatapp.providers import ProvidersFileError
from chatapp.schemas.audit import AuditQuery
from chatapp.schemas.usage import UsageQuery
from chatapp.schemas.users import CreateUser, UpdateUser
from chatapp.serve import WORKER_CLASSES
from chatapp.services import audit, keys, users


def _app_or_exit() -> Flask:
    """The app; a bad setting or providers file ends the command with its one-line message,
    no traceback."""
    try:
        return create_app()
    except (ConfigError, ProvidersFileError) as exc:
        raise click.ClickException(str(exc)) from None


@click.group(cls=FlaskGroup, create_app=_app_or_exit, add_version_option=False)
def main() -> None:
    """chatapp: a self-hostable LLM chat service."""


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=click.IntRange(1, 65535))
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--worker-class", default="gevent", show_default=True, type=click.Choice(WORKER_CLASSES)
)
@click.option(
    "--worker-connections", default=1000, show_default=True, type=click.IntRange(1, 100_000),
    help="Open connections per gevent worker.",
)  # fmt: skip
@click.option(
    "--threads", default=8, show_default=True, type=click.IntRange(1, 256),
    help="Threads per gthread worker.",
)  # fmt: skip
@with_appcontext
def serve(**flags: object) -> None:
    """Apply pending migrations once, then serve with gunicorn (gevent workers by default).

    gunicorn.conf.py and GUNICORN_CMD_ARGS are honoured: they override these defaults, and
    the flags given here override them, as gunicorn's own command line does.
    """
    from chatapp.serve import exec_server, given_settings, gunicorn_settings, serve_plan
    from chatapp.startup import prepare

    app = current_app._get_current_object()
    try:
        admin_key = prepare(app)
    except keys.UnusableBootstrapKey as exc:
        raise click.ClickException(str(exc)) from exc
    if admin_key:
        click.echo("Created user 'admin'. Its API key is shown this once; keep it safe:")
        click.echo(admin_key)
    defaults = gunicorn_settings(flags, app.config["LLM_TIMEOUT"], app.config["LOG_FORMAT"])
    explicit = given_settings(defaults, _flags_given())
    exec_server(serve_plan(defaults, explicit, app.config["DB_STATEMENT_TIMEOUT"]))


def _flags_given() -> set[str]:
    context = click.get_current_context()
    return {
        name for name in context.params
        if context.get_parameter_source(name) is ParameterSource.COMMANDLINE
    }  # fmt: skip


@main.group("users")
def users_group() -> None:
    """Manage users."""


@users_group.command("create")
@click.argument("username")
@click.option("--admin", is_flag=True, help="Make the user an administrator.")
@click.option("--rate-limit", type=click.IntRange(1), help="Requests per hour for this user.")
@click.option("--quota-day", type=click.IntRange(1), help="Tokens per UTC day for this user.")
@click.option("--quota-month", type=click.IntRange(1), help="Tokens per UTC month for this user.")
@with_appcontext
def create_user(
    username: str,
    admin: bool,
    rate_limit: int | None,
    quota_day: int | None,
    quota_month: int | None,
) -> None:
    """Create a user; the new API key is the last line of output."""
    request = _validated(
        CreateUser,
        username=username,
        is_admin=admin,
        rate_limit_per_hour=rate_limit,
        token_quota_per_day=quota_day,
        token_quota_per_month=quota_month,
    )
    new_user = _run(
        partial(
            users.create_user,
            token_quota_per_day=request.token_quota_per_day,
            token_quota_per_month=request.token_quota_per_month,
            actor=audit.CLI_ACTOR,
        ),
        request.username,
        request.is_admin,
        request.rate_limit_per_hour,
    )
    click.echo(f"Created user '{new_user.user.username}'. API key (shown once):")
    click.echo(new_user.clear_key)


class LimitOrDefault(click.ParamType):
    """A whole number of 1 or more, or `default` (null: the setting's default again)."""

    name = "N|default"

    def convert(self, value: object, param: object, ctx: object) -> int | str:
        if value == DEFAULT_WORD or isinstance(value, int):
            return value
        # isascii too: "²" is a digit to isdigit() but no number to int().
        if str(value).isascii() and str(value).isdigit() and int(str(value)) >= 1:
            return int(str(value))
        self.fail(f"{value!r} is not a whole number of 1 or more, nor '{DEFAULT_WORD}'")


DEFAULT_WORD = "default"
UPDATE_OPTIONS = {
    "rate_limit": "rate_limit_per_hour",
    "quota_day": "token_quota_per_day",
    "quota_month": "token_quota_per_month",
}


@users_group.command("update")
@click.argument("username")
@click.option("--active/--inactive", default=None, help="Let the user in, or not.")
@click.option("--admin/--no-admin", default=None, help="Make or unmake an administrator.")
@click.option("--rate-limit", type=LimitOrDefault(), help="Requests per hour, or 'default'.")
@click.option("--quota-day", type=LimitOrDefault(), help="Tokens per UTC day, or 'default'.")
@click.option("--quota-month", type=LimitOrDefault(), help="Tokens per UTC month, or 'default'.")
@with_appcontext
def update_user(username: str, active: bool | None, admin: bool | None, **limits: object) -> None:
    """Change a user's flags, rate limit or token quotas, as PATCH /users/USERNAME does."""
    changes: dict[str, object] = {"is_active": active, "is_admin": admin}
    changes.update({UPDATE_OPTIONS[name]: value for name, value in limits.items()})
    given = {name: value for name, value in changes.items() if value is not None}
    request = _validated(
        UpdateUser, **{name: None if v == DEFAULT_WORD else v for name, v in given.items()}
    )
    user = _run(users.update_user, None, username, request.changes())
    click.echo(f"Updated user '{user.username}'.")


@users_group.command("delete")
@click.argument("username")
@with_appcontext
def delete_user(username: str) -> None:
    """Delete a user with their keys, chats, prompts and usage."""
    _run(users.delete_user, None, username)
    click.echo(f"Deleted user '{username}'.")


@users_group.command("list")
@with_appcontext
def list_users() -> None:
    """List users."""
    for user in users.list_users():
        flags = [
            flag for flag, on in (("admin", user.is_admin), ("inactive", not user.is_active)) if on
        ]
        config = current_app.config
        limit = user.rate_limit_per_hour or f"default ({config['RATE_LIMIT_PER_HOUR']})"
        quotas = [
            _quota(user.token_quota_per_day, config["TOKEN_QUOTA_PER_DAY"], "day"),
            _quota(user.token_quota_per_month, config["TOKEN_QUOTA_PER_MONTH"], "month"),
        ]
        click.echo(f"{user.username}\t{','.join(flags) or '-'}\t{limit}/hour\t{' '.join(quotas)}")


def _quota(own: int | None, default: int | None, period: str) -> str:
    if own is not None:
        return f"{own} tokens/{period}"
    return f"default ({default or 'unlimited'}) tokens/{period}"


@main.group("keys")
def keys_group() -> None:
    """Manage API keys."""


@keys_group.command("create")
@click.argument("username")
@click.option("--name", default="cli", show_default=True, help="A label for the key.")
@with_appcontext
def create_key(username: str, name: str) -> None:
    """Create a key for USERNAME; the key is the last line of output."""
    user = _run(users.get_user, username)
    new_key = _run(partial(keys.create_key, actor=audit.CLI_ACTOR), user, name)
    click.echo(f"Created key {new_key.record.prefix} for '{username}' (shown once):")
    click.echo(new_key.clear)


@keys_group.command("revoke")
@click.argument("prefix")
@with_appcontext
def revoke_key(prefix: str) -> None:
    """Revoke the key with this display prefix."""
    record = _run(partial(keys.revoke_key, actor=audit.CLI_ACTOR), prefix)
    click.echo(f"Revoked key {record.prefix}.")


@main.group("ratelimit")
def ratelimit_group() -> None:
    """Rate limit housekeeping."""


@ratelimit_group.command("purge")
@with_appcontext
def purge_rate_limits() -> None:
    """Delete expired counters from the rate_limits table (a background thread also does)."""
    from chatapp import ratelimit
    from chatapp.extensions import db

    click.echo(f"Purged {ratelimit.purge_expired(db.engine)} expired rate limit rows.")


@main.command("usage")
@click.option(
    "--from", "start", type=click.DateTime(["%Y-%m-%d"]), help="[default: --to - 29 days]"
)
@click.option("--to", "end", type=click.DateTime(["%Y-%m-%d"]), help="[default: today, UTC]")
@click.option("--user", "username", help="One user's usage, by day and model.")
@click.option("--csv", "as_csv", is_flag=True, help="Comma-separated values, with a header.")
@with_appcontext
def usage_report(
    start: datetime | None, end: datetime | None, username: str | None, as_csv: bool
) -> None:
    """LLM usage per user (totals), or one user's by day and model, as GET /usage."""
    from chatapp.cli_reports import usage_rows

    query = _validated(
        UsageQuery,
        from_=start.date() if start else None,
        to=end.date() if end else None,
    )
    _print_table(_run(usage_rows, query, username), as_csv)


@main.command("audit")
@click.option("--limit", default=100, show_default=True, type=click.IntRange(1, 500))
@click.option("--offset", default=0, show_default=True, type=click.IntRange(0))
@click.option("--action", help='Only this action, e.g. "user.created".')
@click.option("--actor", help='Only this actor: a username, "cli" or "system".')
@click.option("--csv", "as_csv", is_flag=True, help="Comma-separated values, with a header.")
@with_appcontext
def audit_report(
    limit: int, offset: int, action: str | None, actor: str | None, as_csv: bool
) -> None:
    """The audit log, newest first, as GET /audit."""
    from chatapp.cli_reports import audit_rows

    query = _validated(AuditQuery, limit=limit, offset=offset, action=action, actor=actor)
    _print_table(audit_rows(query), as_csv)


def _print_table(rows: list[list[str]], as_csv: bool) -> None:
    """The header and rows, tab-separated (or CSV) on stdout."""
    if as_csv:
        text = io.StringIO()
        csv.writer(text, lineterminator="\n").writerows(rows)
        click.echo(text.getvalue(), nl=False)
        return
    for row in rows:
        click.echo("\t".join(row))


@main.command("import-legacy")
@click.option("--user", "username", default="admin", show_default=True, help="Who gets the data.")
@click.option("--chats-dir", type=click.Path(path_type=Path), help="[default: CHAT_HISTORY_DIR]")
@click.option(
    "--prompts-dir", type=click.Path(path_type=Path), help="[default: SYSTEM_PROMPTS_DIR]"
)
@click.option(
    "--prompt-file", type=click.Path(path_type=Path), help="[default: SYSTEM_PROMPT_FILE]"
)
@with_appcontext
def import_legacy(
    username: str, chats_dir: Path | None, prompts_dir: Path | None, prompt_file: Path | None
) -> None:
    """Import the old app's chats, prompts and system_prompt.txt; safe to run again."""
    from chatapp.services.legacy_import import LegacyPaths, import_legacy

    configured = LegacyPaths.from_config(current_app.config)
    paths = LegacyPaths(
        chats_dir or configured.chats_dir,
        prompts_dir or configured.prompts_dir,
        prompt_file or configured.prompt_file,
    )
    if not paths.any_exist():
        raise click.ClickException(
            f"Nothing to import: none of {', '.join(map(str, paths.missing()))} exists"
        )
    user = _run(users.get_user, username)
    for path in paths.missing():
        click.echo(f"Not found, nothing imported from it: {path}")
    for line in import_legacy(user, paths).summary():
        click.echo(line)


def _validated(model: type, **fields: object):  # noqa: ANN202 - returns an instance of model
    from pydantic import ValidationError

    try:
        return model(**fields)
    except ValidationError as exc:
        raise click.BadParameter("; ".join(err["msg"] for err in exc.errors())) from exc


def _run(function, *args):  # noqa: ANN001, ANN202 - a thin wrapper for any service call
    try:
        return function(*args)
    except ApiError as exc:
        raise click.ClickException(exc.message) from exc
