"""Several providers (issue 13): what routing and model lists cost, against one provider.

Two servers in one run, each gunicorn gthread 1 worker × 8 threads on its own SQLite: one with
the single-provider variables (the fake Ollama), one with a providers file naming the fake
Ollama, the fake OpenAI-compatible server and the fake Anthropic, each in its own process.
`/v1/chat/completions` (no stored turn, so routing shows) to the same fake Ollama through each,
and `GET /models`; then, in process, a cold listing of every provider's models (the server
keeps the lists 30 s, so a cold one is what a request pays twice a minute at most).
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from bench.bench_chat import DIRECT_BODY, MODEL
from bench.harness import (
    Stats,
    free_port,
    gunicorn_server,
    load,
    prepared_env,
    print_table,
    serving,
    sqlite_database,
)

CONCURRENCY = (1, 8)
REQUESTS = 400
COLD_LISTINGS = 50
SERVING = {"workers": 1, "threads": 8}
UNLIMITED = {"RATE_LIMIT_PER_HOUR": "1000000000", "CHAT_RATE_LIMIT": "1000000000/minute"}
FAKES = {"ollama": "tests.fakes.ollama", "openai": "tests.fakes.openai",
         "anthropic": "tests.fakes.anthropic"}  # fmt: skip
PROVIDERS_TOML = """
default_model = "local/{model}"

[providers.local]
type = "ollama"
base_url = "{ollama}"

[providers.cloud]
type = "openai"
base_url = "{openai}/v1"
api_key_env = "BENCH_OPENAI_KEY"

[providers.claude]
type = "anthropic"
base_url = "{anthropic}"
api_key_env = "BENCH_ANTHROPIC_KEY"
"""
KEYS = {"BENCH_OPENAI_KEY": "sk-bench", "BENCH_ANTHROPIC_KEY": "sk-ant-bench"}


@contextmanager
def fakes() -> Iterator[dict[str, str]]:
    """The three fake providers, each in its own process; their base URLs by kind."""
    with ExitStack() as stack:
        urls = {}
        for kind, module in FAKES.items():
            port = free_port()
            command = [sys.executable, "-m", module, "--port", str(port), "--tokens", "8"]
            urls[kind] = stack.enter_context(serving(command, port))
        yield urls


def providers_file(directory: Path, urls: dict[str, str]) -> Path:
    path = directory / "providers.toml"
    path.write_text(PROVIDERS_TOML.format(model=MODEL, **urls))
    return path


def measure_http(urls: dict[str, str], single: str, several: str, headers: dict) -> list:
    completion = {"messages": DIRECT_BODY["messages"]}
    rows: list = []
    for concurrency in CONCURRENCY:
        load_at = {"concurrency": concurrency, "requests_total": REQUESTS}
        direct = load(f"{urls['ollama']}/api/chat", "POST", json=DIRECT_BODY, **load_at)
        rows.append((f"fake Ollama /api/chat c={concurrency}", direct, None))
        for name, url, model in (("one provider", single, MODEL),
                                 ("three providers", several, f"local/{MODEL}")):  # fmt: skip
            body = {**completion, "model": model}
            stats = load(f"{url}/v1/chat/completions", "POST", headers, body, **load_at)
            rows.append((f"/v1 completion, {name} c={concurrency}", stats, direct))
        one = load(f"{single}/models", headers=headers, **load_at)
        rows.append((f"GET /models, one provider c={concurrency}", one, None))
        three = load(f"{several}/models", headers=headers, **load_at)
        rows.append((f"GET /models, three providers c={concurrency}", three, one))
    return rows


def cold_listing_ms(settings: dict[str, str]) -> Stats:
    """Every provider's models asked afresh (in parallel), in process."""
    from chatapp import create_app
    from chatapp.services import llm
    from chatapp.services.model_lists import ModelLists

    app = create_app({**settings, "LEGACY_IMPORT_ON_START": "false"})
    samples = []
    with app.app_context():
        for _ in range(COLD_LISTINGS):
            started = time.perf_counter()
            ModelLists(llm.registry(), ttl=0).all()
            samples.append((time.perf_counter() - started) * 1000)
    ordered, median = sorted(samples), statistics.median(samples)
    return Stats(len(ordered), 0, 1000 / median, median, ordered[-1])


def main() -> None:
    with fakes() as urls, tempfile.TemporaryDirectory(prefix="chatapp-bench-") as directory:
        several_settings = {"PROVIDERS_FILE": str(providers_file(Path(directory), urls)), **KEYS}
        with sqlite_database() as one_db, sqlite_database() as three_db:
            one_env, key = prepared_env(one_db, OLLAMA_HOST=urls["ollama"], **UNLIMITED)
            # The same admin key on both servers.
            three_env, _ = prepared_env(three_db, API_KEY=key, **several_settings, **UNLIMITED)
            headers = {"Authorization": f"Bearer {key}"}
            with (
                gunicorn_server("wsgi:app", one_env, **SERVING) as single,
                gunicorn_server("wsgi:app", three_env, **SERVING) as several,
            ):
                rows = measure_http(urls, single, several, headers)
        one = cold_listing_ms({"OLLAMA_HOST": urls["ollama"], "DATABASE_URL": "sqlite://"})
        three = cold_listing_ms({**several_settings, "DATABASE_URL": "sqlite://"})
    setup = "gunicorn gthread 1 worker × 8 threads, SQLite"
    print_table(f"Routing and model lists, one provider against three ({setup})", rows)
    print_table(
        f"A cold listing of every provider's models, in process ({COLD_LISTINGS} times)",
        [("one provider", one, None), ("three providers, asked in parallel", three, one)],
    )


if __name__ == "__main__":
    main()
