"""Issue 12, item 8: output kept within a limit, head and tail with the count dropped."""

from __future__ import annotations

from runbook.output import CappedText, cap


def test_head_and_tail_are_kept_with_the_count_dropped() -> None:
    kept = CappedText(head=10, tail=5)
    for piece in ["0123", "456789ab", "cdefghij", "klmno"]:
        kept.add(piece)
    assert kept.text() == "0123456789\n[… runbook dropped 10 characters of output here …]\nklmno"


def test_a_text_that_fits_is_unchanged_and_capping_twice_changes_nothing() -> None:
    assert cap("short", head=10, tail=5) == "short"
    once = cap("x" * 50_000_000, head=1000, tail=1000)
    assert "dropped 49,998,000 characters" in once and cap(once, head=1000, tail=1000) == once
