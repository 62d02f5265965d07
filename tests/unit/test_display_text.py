"""Messages shown in the window carry no emoji: without an emoji font they are empty boxes.

The CLI and the logs keep their prefixes (operators grep them); the window's one notification
path (``ui/operations.py``) cleans every message with ``plain_message``.
"""

from __future__ import annotations

import pytest

from iamedic_desktop.core.display_text import has_emoji, plain_message


@pytest.mark.parametrize(
    ("message", "shown"),
    [
        ("❌ The study 'Twins' has been deleted.", "The study 'Twins' has been deleted."),
        ("⚠️ Cancelled: 2 file(s) were not imported.", "Cancelled: 2 file(s) were not imported."),
        ("✅ Done 🔄 then 🚀 again 🔧", "Done then again"),
        ("ℹ️ Already in the study", "Already in the study"),
        ("damaged; ⚠️ nothing was stored ✅.", "damaged; nothing was stored."),
        ("Import failed:\n❌ file 1\n⚠️ file 2", "Import failed:\nfile 1\nfile 2"),
        ("Still at 0:00.167 (frame 5) · 12.4 KB…", "Still at 0:00.167 (frame 5) · 12.4 KB…"),
        ("Nasal bone → 12 × 8 px, 0.5 s – 1 s ≤ 2", "Nasal bone → 12 × 8 px, 0.5 s – 1 s ≤ 2"),
        ("Grüße, Ünal, Ørsted, 胎児, إيمان", "Grüße, Ünal, Ørsted, 胎児, إيمان"),
    ],
)
def test_a_message_loses_its_emoji_and_keeps_its_words(message: str, shown: str) -> None:
    assert plain_message(message) == shown
    assert not has_emoji(plain_message(message))


def test_every_log_prefix_is_an_emoji() -> None:
    for prefix in ("🚀", "🔧", "✅", "⚠️", "❌", "🔄", "ℹ️"):
        assert has_emoji(prefix), prefix
        assert plain_message(f"{prefix} words") == "words"
