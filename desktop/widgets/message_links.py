"""The links in a message's header: Copy and the branch actions, and the "‹ 2 / 3 ›" switcher.

They are links, not buttons, because the transcript is one rich-text document."""

from __future__ import annotations

from desktop.message_model import Message

_GAP = "&nbsp;&nbsp;&nbsp;"
# What a stored message offers, by role.
_ACTIONS = {
    "user": (("copy", "Copy"), ("edit", "Edit"), ("delete", "Delete")),
    "assistant": (("copy", "Copy"), ("regen", "Regenerate"), ("delete", "Delete")),
}


def actions(row: int, message: Message) -> str:
    """The message's links: Copy always, the branch actions once the server has its id."""
    offered = _ACTIONS.get(message.role, ()) if message.id else ()
    links = [f'<a class="act" href="{s}:{row}">{label}</a>' for s, label in offered]
    return _GAP + _GAP.join(links or [f'<a class="act" href="copy:{row}">Copy</a>'])


def switcher(row: int, message: Message) -> str:
    """The switcher, "‹ 2 / 3 ›", of a message with siblings; an arrow at an end is text."""
    n, count = message.branch
    if count < 2:
        return ""

    def arrow(step: int, glyph: str) -> str:
        if message.sibling(step) is None:
            return f'<span class="meta">&nbsp;{glyph}&nbsp;</span>'
        return f'<a class="arrow" href="branch:{row}:{step}">&nbsp;{glyph}&nbsp;</a>'

    return f"{_GAP}{arrow(-1, '‹')}{n}&nbsp;/&nbsp;{count}{arrow(1, '›')}"
