"""metrics.json's pad-drawn block: taken only from the ROM the budget describes, and a ROM
without the canvas says why."""

from __future__ import annotations

from export.metrics import paddrawn, paddrawn_line

DRAWN = {
    "rom_sha256": "abc",
    "method": "m",
    "canvas": True,
    "right": 2,
    "total": 3,
    "accuracy": 2 / 3,
    "by_style": {"neat": {"right": 2, "total": 3}},
    "wrong": ["8 small -> 9"],
    "frames": {"mean": 20.5, "max": 31},
    "digits": [{"name": "8 small"}],
}


def test_the_summary_of_this_rom_only() -> None:
    summary = paddrawn(DRAWN, {"sha256": "abc"})
    assert summary is not None and "digits" not in summary
    assert summary["right"] == 2 and summary["frames"] == {"mean": 20.5, "max": 31}
    assert paddrawn(DRAWN, {"sha256": "other"}) is None  # drawn on an older ROM
    assert paddrawn(None, {"sha256": "abc"}) is None
    line = paddrawn_line(summary)
    assert "2 of 3 right" in line and "8 small -> 9" in line and "20.5 frames" in line and "worst 31" in line


def test_a_rom_without_the_canvas() -> None:
    result = {"rom_sha256": "abc", "method": "m", "canvas": False, "reason": "no canvas: why", "digits": []}
    summary = paddrawn(result, {"sha256": "abc"})
    assert summary == {"canvas": False, "reason": "no canvas: why"}
    assert "no canvas: why" in paddrawn_line(summary)
