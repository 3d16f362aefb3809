"""Markdown rendering for the transcript, and the helpers that keep streaming cheap."""

from __future__ import annotations

import pytest

from desktop.markdown_render import close_open_fence, render_markdown, stable_prefix_length


def test_code_blocks_are_monospaced_in_a_padded_box() -> None:
    html = render_markdown("Look:\n\n```python\nx = 1 < 2\n```")
    assert '<table class="code"' in html
    assert "<pre>x = 1 &lt; 2\n</pre>" in html


def test_raw_html_in_a_message_is_shown_as_text() -> None:
    html = render_markdown("<script>alert(1)</script> and <b>bold</b>")
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;b&gt;bold&lt;/b&gt;" in html


def test_tables_get_visible_borders() -> None:
    assert 'class="grid" border="1"' in render_markdown("| a | b |\n|---|---|\n| 1 | 2 |")


@pytest.mark.parametrize(
    ("text", "stable"),
    [
        ("one paragraph still growing", ""),
        ("done\n\nnext", "done\n\n"),
        ("```\ncode\n\nstill code", ""),
        ("```\ncode\n```\nafter", "```\ncode\n```\n"),
        ("a\n\n```py\nx\n\ny", "a\n\n"),
    ],
)
def test_stable_prefix_ends_at_a_blank_line_outside_code(text: str, stable: str) -> None:
    assert text[: stable_prefix_length(text)] == stable


def test_an_unfinished_fence_is_closed_for_rendering() -> None:
    assert close_open_fence("x\n```py\nprint(1)") == "x\n```py\nprint(1)\n```"
    assert close_open_fence("```\nok\n```") == "```\nok\n```"
