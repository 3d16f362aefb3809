"""Markdown rendering for the transcript, and the helpers that keep streaming cheap."""

from __future__ import annotations

import pytest

from desktop.markdown_render import (
    close_open_fence,
    code_blocks,
    highlight_style_sheet,
    render_markdown,
    stable_prefix_length,
)


def test_code_blocks_are_highlighted_in_a_box_with_a_copy_link() -> None:
    html = render_markdown("Look:\n\n```python\nx = 1 < 2\n```\n\n```\nplain\n```")
    assert '<table class="code"' in html
    assert '<span class="hl-mi">1</span> <span class="hl-o">&lt;</span>' in html
    assert '<a href="code:0">Copy</a>' in html and '<a href="code:1">Copy</a>' in html
    assert "<pre>plain\n</pre>" in html  # no language: no guessing


def test_a_streaming_render_skips_highlighting_and_copy_links() -> None:
    html = render_markdown("```python\nx = 1", final=False)
    assert "<pre>x = 1\n</pre>" in html
    assert "hl-" not in html and "code:" not in html


def test_an_unknown_language_is_shown_as_plain_code() -> None:
    assert "<pre>a &lt; b\n</pre>" in render_markdown("```no-such-language\na < b\n```")


def test_code_blocks_are_what_the_copy_links_copy() -> None:
    text = "```python\nif a < b:\n    pass\n```\n\ntext\n\n```\nsecond & last\n```"
    assert code_blocks(text) == ["if a < b:\n    pass\n", "second & last\n"]


def test_a_stopped_reply_with_an_open_fence_renders_its_code() -> None:
    html = render_markdown("Here:\n\n```python\ndef f():\n    return 1")
    assert "```" not in html
    assert '<span class="hl-k">def</span>' in html


@pytest.mark.parametrize("dark", [False, True])
def test_each_theme_has_its_own_token_colours(dark: bool) -> None:
    rules, background = highlight_style_sheet(dark)
    assert ".hl-k {" in rules and background.startswith("#")
    assert highlight_style_sheet(not dark)[0] != rules


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
    assert close_open_fence("```\nline\n") == "```\nline\n```"
    assert close_open_fence("```\nok\n```") == "```\nok\n```"
