"""Slow: the default build's page in headless Chromium: every pad-drawn digit drawn with the
mouse gets the right answer in #answer (the answer the console gives it drawn with the D-pad,
and the digit itself for all but at most two)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from nes.tools.pad_digits import PAD_DIGITS
from nes.tools.web_driver import draw, open_page, wait_settled
from tests.conftest import run_doit

MAY_MISS = 2  # of the 32 pad-drawn digits (the default build gets all of them right today)


def mouse_answers(browser, page_dir: Path) -> dict[str, int]:
    """Each pad-drawn digit drawn with the mouse on a fresh page: the answer #answer shows."""
    answers = {}
    for entry in PAD_DIGITS:
        problems: list[str] = []
        page = open_page(browser, (page_dir / "index.html").resolve().as_uri(), problems)
        try:
            draw(page, entry.strokes)
            result = wait_settled(page)
            assert page.get_attribute("#answer", "data-digit") == str(result["digit"])
            answers[entry.name] = int(page.inner_text("#answer"))
        finally:
            page.close()
        assert problems == [], entry.name
    return answers


def check_pad_digits(browser, page_dir: Path, paddrawn: Path) -> None:
    pad = {entry["name"]: entry["answer"] for entry in json.loads(paddrawn.read_text())["digits"]}
    answers = mouse_answers(browser, page_dir)
    assert answers == pad  # the mouse gets what the D-pad gets
    wrong = [entry.name for entry in PAD_DIGITS if answers[entry.name] != entry.digit]
    assert len(wrong) <= MAY_MISS, wrong


@pytest.mark.slow
def test_mouse_drawn_digits_get_the_right_answer(browser, default_build: Path, mnist_dir: Path) -> None:
    run = run_doit(f"builddir={default_build}", "web", env={"MNIST_DIR": str(mnist_dir)})
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    check_pad_digits(browser, default_build / "default" / "web", default_build / "default" / "paddrawn.json")
