"""Messages as the window shows them: without emoji.

Logs and the CLI start their lines with emoji (🚀 🔧 ✅ ⚠️ ❌ 🔄), which operators grep for. A
workstation without an emoji font paints them as empty boxes, so everything the window shows
passes through ``plain_message`` (in ``ui/operations.py``); the words stay as written.
"""

from __future__ import annotations

import re

# Pictographs and symbols that fonts draw as emoji, and the joiners and selectors of emoji
# sequences. Arrows, maths, punctuation (· … – →) and every script's letters are not in them.
_EMOJI_CLASS = (
    "["
    "\U0001f000-\U0001faff"  # pictographs, emoticons, transport, flags, symbols and more
    "\u2600-\u27bf"  # miscellaneous symbols and dingbats (✅ ❌ ⚠ and the like)
    "\u2b00-\u2bff"  # ⬆ ⭐ and other symbols drawn as emoji
    "\u23e9-\u23fa"  # ⏩ ⏳ ⏰ and the media-control emoji
    "\u2139"  # ℹ
    "\ufe0e\ufe0f\u200d\u20e3"  # text/emoji selectors, zero-width joiner, keycap
    "\U000e0020-\U000e007f"  # tag characters of subdivision flags
    "]"
)
_EMOJI = re.compile(_EMOJI_CLASS)
# A run of emoji with the spaces around it (``"stored ✅ ⚠️ ."``).
_RUN = re.compile(rf"[ \t]*{_EMOJI_CLASS}+(?:[ \t]*{_EMOJI_CLASS}+)*[ \t]*")
_CLOSING = "\n.,;:!?)]"


def _gap(match: re.Match[str]) -> str:
    """One space between words, nothing at a line's ends or before punctuation."""
    text, start, end = match.string, match.start(), match.end()
    at_start = start == 0 or text[start - 1] == "\n"
    at_end = end == len(text) or text[end] in _CLOSING
    return "" if at_start or at_end else " "


def has_emoji(text: str) -> bool:
    """Whether ``text`` holds a character an emoji font would draw."""
    return _EMOJI.search(text) is not None


def plain_message(text: str) -> str:
    """``text`` without emoji, and without the spaces they would leave behind."""
    return _RUN.sub(_gap, text) if has_emoji(text) else text
