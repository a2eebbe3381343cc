"""`doit report`: a complete, well-formed HTML page whose images all exist and are PNGs."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from PIL import Image

from tests.conftest import TINY_DOIT, TinyBuild

pytestmark = TINY_DOIT  # runs doit on the shared tiny build (or reads its dep file)


class PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.images: list[str] = []
        self.headings: list[str] = []
        self.table_cells = 0
        self.open_tags: list[str] = []
        self._in_heading = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ("meta", "img", "br"):
            self.open_tags.append(tag)
        if tag == "img":
            self.images.append(dict(attrs)["src"] or "")
        if tag in ("td", "th"):
            self.table_cells += 1
        self._in_heading = tag in ("h1", "h2")

    def handle_endtag(self, tag: str) -> None:
        assert self.open_tags and self.open_tags[-1] == tag, f"</{tag}> closes {self.open_tags[-1:]}"
        self.open_tags.pop()
        self._in_heading = False

    def handle_data(self, data: str) -> None:
        if self._in_heading and data.strip():
            self.headings.append(data.strip())


def test_report_page_and_images(tiny_build: TinyBuild) -> None:
    run = tiny_build.doit("report", report_name="report-task.json")
    assert run.returncode == 0, run.stderr[-2000:]
    folder: Path = tiny_build.out / "report"
    page = (folder / "index.html").read_text()
    parser = PageParser()
    parser.feed(page)
    parser.close()
    assert parser.open_tags == []  # every element closed
    assert {"Metrics", "Drawn, not only scanned", "Drawn with the D-pad", "Training", "Cartridge", "Build"} <= set(
        parser.headings
    )
    assert parser.table_cells >= 10
    expected = {"confusion.png", "training.png", "rom_budget.png", "misclassified.png", "screen.png", "tasks.png",
                "drawn.png", "paddrawn.png"}
    # the playground's screenshot, once `doit web_shot` has taken it (tests/web may have)
    assert set(parser.images) - {"web.png"} == expected
    assert '<a href="../web/index.html">' in page  # the browser playground, linked
    for name in expected:
        with Image.open(folder / name) as image:
            assert image.format == "PNG" and image.width > 100 and image.height > 100, name
    assert "integer accuracy" in page and "PRG-ROM" in page
    assert "<th>mixed</th>" in page and "points" in page  # the drawn table
    assert "pad-drawn" in page and "<th>large</th>" in page  # the pad-drawn summary
