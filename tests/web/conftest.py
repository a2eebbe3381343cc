"""The browser playground's fixtures: the tiny build's page (`doit web`) and headless Chromium.

Chromium is Debian's (`chromium`), driven by Playwright's Python package; Playwright downloads
no browser. Without them the browser tests skip with the reason, except on CI (CI=true), where
`.ci/run install` installs both: there a missing browser fails the tests. The same for jsnes
(`npm ci --prefix web`), without which `doit web` cannot write the page.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import TinyBuild


def browser_missing(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{reason} (CI installs it: bash .ci/run install)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from nes.tools.web_driver import BrowserMissing, chromium

    try:
        with chromium() as launched:
            yield launched
    except BrowserMissing as error:
        browser_missing(str(error))


@pytest.fixture(scope="session")
def tiny_page(tiny_build: TinyBuild) -> Path:
    """The tiny build's page folder, written by `doit web` as a user would."""
    from common.errors import BuildError
    from nes.tools import web

    try:
        web.installed_jsnes()
    except BuildError as error:
        browser_missing(str(error))
    run = tiny_build.doit("web", report_name="web.json")
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    return tiny_build.out / "web"
