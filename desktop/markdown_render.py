"""Markdown to the HTML subset QTextDocument renders, and helpers for rendering a growing reply."""

from __future__ import annotations

import re
import threading

import markdown
from markdown.extensions import Extension

# Qt's rich text has no padding on blocks, so a code block goes in a one-cell table.
_PRE_OPEN = re.compile(r"<pre>(<code[^>]*>)?")
_PRE_CLOSE = re.compile(r"(</code>)?</pre>")
_GRID_TABLE = '<table class="grid" border="1" cellspacing="0" cellpadding="4">'
_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")

_local = threading.local()


class _EscapeHtml(Extension):
    """Show raw HTML in a message as text: python-markdown's documented safe_mode successor."""

    def extendMarkdown(self, md: markdown.Markdown) -> None:  # noqa: N802 (markdown's API)
        md.preprocessors.deregister("html_block")
        md.inlinePatterns.deregister("html")


def _converter() -> markdown.Markdown:
    # A Markdown instance is not thread-safe; history is pre-rendered in worker threads.
    converter = getattr(_local, "converter", None)
    if converter is None:
        extensions = ["fenced_code", "tables", "sane_lists", "nl2br", _EscapeHtml()]
        converter = markdown.Markdown(extensions=extensions, output_format="html")
        _local.converter = converter
    return converter


def render_markdown(text: str) -> str:
    """HTML for a message. Raw HTML in the text is shown as text, never interpreted."""
    converter = _converter()
    converter.reset()
    body = converter.convert(text)
    body = body.replace("<table>", _GRID_TABLE)
    body = _PRE_OPEN.sub('<table class="code" width="100%" cellpadding="8"><tr><td><pre>', body)
    return _PRE_CLOSE.sub("</pre></td></tr></table>", body)


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
    """The text with an unfinished code fence closed, so a half-streamed block renders as code."""
    fences = [m.group(1) for line in text.splitlines() if (m := _FENCE.match(line))]
    if len(fences) % 2:
        return f"{text}\n{fences[-1]}"
    return text
