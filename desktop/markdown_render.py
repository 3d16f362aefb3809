"""Markdown to the HTML subset QTextDocument renders, code highlighted with Pygments, and helpers
for rendering a growing reply cheaply."""

from __future__ import annotations

import html
import re
import threading
from functools import cache

import markdown
from markdown.extensions import Extension

_CODE_BLOCK = re.compile(r'<pre><code(?: class="language-([^"]+)")?>(.*?)</code></pre>', re.DOTALL)
_GRID_TABLE = '<table class="grid" border="1" cellspacing="0" cellpadding="4">'
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
CLASS_PREFIX = "hl-"  # Pygments' token classes, kept apart from the transcript's own
COPY_LABEL = "Copy"

_local = threading.local()


class _EscapeHtml(Extension):
    """Show raw HTML in a message as text: python-markdown's documented safe_mode successor."""

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (markdown's API)
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")


def _converter() -> markdown.Markdown:
    # A Markdown instance is not thread-safe; replies and history are rendered in workers.
    converter = getattr(_local, "converter", None)
    if converter is None:
        extensions = ["fenced_code", "tables", "sane_lists", "nl2br", _EscapeHtml()]
        converter = markdown.Markdown(extensions=extensions, output_format="html")
        _local.converter = converter
    return converter


def _to_html(text: str) -> str:
    converter = _converter()
    converter.reset()
    return converter.convert(close_open_fence(text))


def render_markdown(text: str, final: bool = True) -> str:
    """HTML for a message. Raw HTML in the text is shown as text, never interpreted.

    A `final` render highlights code and gives each block a header with its language and a
    Copy link (`code:<n>`, n counting the message's blocks); a streaming one skips both,
    to stay cheap while it is redone every few tokens."""
    counter = iter(range(1_000_000))

    def code_box(match: re.Match[str]) -> str:
        language, code = match.group(1) or "", match.group(2)
        header = ""
        if final:
            code = _highlight(html.unescape(code), language) if language else code
            header = (
                f'<tr><td class="codehead">{html.escape(language) or "code"}</td>'
                f'<td class="codehead" align="right"><a href="code:{next(counter)}">'
                f"{COPY_LABEL}</a></td></tr>"
            )
        return (
            f'<table class="code" width="100%" cellspacing="0" cellpadding="8">{header}'
            f'<tr><td colspan="2"><pre>{code}</pre></td></tr></table>'
        )

    body = _to_html(text).replace("<table>", _GRID_TABLE)
    return _CODE_BLOCK.sub(code_box, body)


def code_blocks(text: str) -> list[str]:
    """The text of each code block in a message, in the order of its Copy links."""
    return [html.unescape(m.group(2)) for m in _CODE_BLOCK.finditer(_to_html(text))]


def _highlight(code: str, language: str) -> str:
    """`code` as HTML spans with Pygments' token classes; escaped plain text if the language
    is unknown. Pygments is imported on the first code block, not at start-up."""
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        lexer = get_lexer_by_name(language)
    except ClassNotFound:
        return html.escape(code, quote=False)
    formatter = HtmlFormatter(nowrap=True, classprefix=CLASS_PREFIX)
    return highlight(code, lexer, formatter).rstrip("\n") + "\n"


COMMON_LANGUAGES = ("python", "javascript", "typescript", "bash", "json", "sql", "no-such")


def warm_up() -> None:
    """Import Pygments, its plugin table and the lexers most replies use. Run off the GUI
    thread, so the first code block the GUI thread renders (your own message, a stopped
    reply) does not pause it: a first lexer lookup takes tens of milliseconds."""
    for language in COMMON_LANGUAGES:
        _highlight("x\n", language)
    highlight_style_sheet(False)
    highlight_style_sheet(True)


@cache
def highlight_style_sheet(dark: bool) -> tuple[str, str]:
    """CSS rules for the token classes in a light or dark Pygments style, and the style's
    background colour for code boxes."""
    from pygments.formatters import HtmlFormatter

    formatter = HtmlFormatter(style=_DARK_STYLE if dark else _LIGHT_STYLE, classprefix=CLASS_PREFIX)
    return "\n".join(formatter.get_token_style_defs("")), formatter.style.background_color


_LIGHT_STYLE = "default"
_DARK_STYLE = "github-dark"


def stable_prefix_length(text: str) -> int:
    """Length of the leading complete blocks: up to the last blank line outside a code fence.

    A streamed reply only grows, so the blocks before that point will not change any more
    and need rendering once; only the short tail after it is rendered on every update.
    """
    in_fence = False
    position = boundary = 0
    for line in text.splitlines(keepends=True):
        position += len(line)
        if not line.endswith("\n"):
            break
        if _FENCE.match(line):
            in_fence = not in_fence
            if not in_fence:
                boundary = position
        elif not in_fence and not line.strip():
            boundary = position
    return boundary


def close_open_fence(text: str) -> str:
    """The text with an unfinished code fence closed, so a half-written or stopped reply's
    code renders as code, not as a raw fence."""
    fences = [m.group(1) for line in text.splitlines() if (m := _FENCE.match(line))]
    if len(fences) % 2 == 0:
        return text
    newline = "" if text.endswith("\n") else "\n"
    return f"{text}{newline}{fences[-1]}"
