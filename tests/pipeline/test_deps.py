"""pipeline.deps: a step's code, derived from its imports."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline import deps

ROOT = Path(__file__).resolve().parents[2]


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A small project: common <- intnet <- training, with every kind of import."""
    return write(
        tmp_path,
        {
            "common/__init__.py": "",
            "common/base.py": "import os\n",
            "common/unused.py": "",
            "intnet/__init__.py": '"""A docstring whose line reads like an import:\nfrom common import unused\n"""\n',
            "intnet/golden.py": "import numpy as np\nfrom common.base import thing\n",
            "intnet/table.py": "from . import golden\nfrom .golden import x\n",
            "training/__init__.py": "",
            "training/step.py": (
                "from intnet import table\n"
                "from common import (\n    base,\n    missing_name,\n)\n"
                "def run():\n    import training.late as late\n"
            ),
            "training/late.py": "import training.step\n",  # a cycle
            "training/alone.py": "",
        },
    )


def test_closure_follows_every_kind_of_import(repo: Path) -> None:
    files = deps.code_files(["training.step"], repo)
    assert files == [
        "common/__init__.py",
        "common/base.py",
        "common/unused.py",  # named in intnet/__init__.py's docstring: counted, the safe side
        "intnet/__init__.py",
        "intnet/golden.py",
        "intnet/table.py",
        "training/__init__.py",
        "training/late.py",  # imported inside a function
        "training/step.py",
    ]


def test_a_module_without_imports_needs_only_its_packages(repo: Path) -> None:
    assert deps.code_files(["training.alone"], repo) == ["training/__init__.py", "training/alone.py"]


def test_outside_modules_are_not_code_deps(repo: Path) -> None:
    assert deps.module_file("numpy", repo) is None
    with pytest.raises(ValueError, match="not a module of this project"):
        deps.code_files(["numpy"], repo)


def ast_imports(module: str) -> set[str]:
    """The same question answered with `ast`, to check the fast text scan on the real code."""
    path = deps.module_file(module)
    assert path is not None
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert not node.level, f"{module}: relative imports are not used in this project"
            base = node.module or ""
            targets = [f"{base}.{a.name}" if deps.module_file(f"{base}.{a.name}") else base for a in node.names]
        else:
            continue
        for target in targets:
            parts = target.split(".")
            found |= {".".join(parts[:d]) for d in range(1, len(parts) + 1) if deps.module_file(".".join(parts[:d]))}
    return found - {module}


def test_text_scan_agrees_with_ast_on_every_project_module() -> None:
    for module in deps.project_modules():
        assert deps.imported_modules(module) == ast_imports(module), module


def test_module_level_imports_are_all_found_by_importing() -> None:
    """Import each module for real, the project's modules forgotten before each: every project
    module that loads is in the module's derived closure."""
    modules = deps.project_modules()
    probe = (
        "import importlib, json, sys\n"
        f"packages = {deps.PACKAGES!r}\n"
        "def ours(name): return name.split('.')[0] in packages\n"
        "loaded = {}\n"
        f"for name in {modules!r}:\n"
        "    for old in [m for m in sys.modules if ours(m)]: del sys.modules[old]\n"
        "    importlib.import_module(name)\n"
        "    loaded[name] = sorted(m for m in sys.modules if ours(m))\n"
        "print(json.dumps(loaded))\n"
    )
    run = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, capture_output=True, text=True, check=True)
    for module, loaded in json.loads(run.stdout).items():
        missing = set(loaded) - deps.module_closure([module])
        assert not missing, f"importing {module} loads {sorted(missing)}, which its derived code misses"
