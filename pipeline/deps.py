"""The project files a step's code is made of, derived from its imports.

A task that runs `training.train` depends on `training/train.py` and on every project module
that it imports, directly or through other modules, at module level or inside a function (an
import inside a function may run when the step runs; counting it is the safe side). Modules
outside the project (numpy, keras, the standard library) are left out: the pinned
requirements stand for them. Package `__init__.py` files count too, since importing
`training.train` runs `training/__init__.py` first.

The files are read as text (no module is imported), so `dodo.py` can ask for every task's
code each time it loads and `doit list` stays instant.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("common", "intnet", "training", "export", "nes", "pipeline")
"""The project's top-level packages, bottom layer first (see README, "Code map")."""


def project_modules(repo: Path = REPO) -> list[str]:
    """Every module of the project's packages, by dotted name (a package by its own name)."""
    names = []
    for package in PACKAGES:
        for path in sorted((repo / package).rglob("*.py")):
            parts = path.relative_to(repo).with_suffix("").parts
            names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def module_file(name: str, repo: Path = REPO) -> Path | None:
    """The file of project module `name` (a package's `__init__.py`), or None outside the project."""
    if name.split(".")[0] not in PACKAGES:
        return None
    base = repo.joinpath(*name.split("."))
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _package_of(name: str, path: Path) -> str:
    return name if path.name == "__init__.py" else name.rpartition(".")[0]


# `import a.b, c as d` and `from a.b import c, d` (parenthesised lists may span lines), at any
# indentation: a regular expression over the text is ten times faster than `ast` here, and a
# line in a docstring that happens to read like an import only adds a dependency (the safe side).
_IMPORT = re.compile(r"^[ \t]*import[ \t]+([\w.]+(?:[ \t]+as[ \t]+\w+)?(?:[ \t]*,[ \t]*[\w.]+(?:[ \t]+as[ \t]+\w+)?)*)",
                     re.MULTILINE)
_FROM = re.compile(r"^[ \t]*from[ \t]+(\.*)([\w.]*)[ \t]+import[ \t]+(\([^)]*\)|[^\n#]*)", re.MULTILINE)


def _statements(text: str) -> list[tuple[int, str, list[str]]]:
    """(relative level, module, imported names) of each import statement in `text`."""
    found = [(0, part.split()[0], []) for match in _IMPORT.finditer(text) for part in match.group(1).split(",")]
    for match in _FROM.finditer(text):
        names = [part.split()[0] for part in match.group(3).strip("() \n").replace("\n", " ").split(",")
                 if part.strip()]
        found.append((len(match.group(1)), match.group(2), names))
    return found


@functools.cache
def imported_modules(name: str, repo: Path = REPO) -> frozenset[str]:
    """The project modules that module `name`'s file imports anywhere in it (one level)."""
    path = module_file(name, repo)
    if path is None:
        return frozenset()
    found: set[str] = set()
    for level, module, names in _statements(path.read_text(encoding="utf-8")):
        if level:  # relative import: resolve against this module's package
            package = _package_of(name, path).split(".")
            stem = ".".join(package[: len(package) - level + 1])
            base = f"{stem}.{module}" if module else stem
        else:
            base = module
        # `from pkg import mod` imports the module pkg.mod when there is one, else a name of pkg
        targets = [f"{base}.{n}" if module_file(f"{base}.{n}", repo) else base for n in names] or [base]
        for target in targets:
            parts = target.split(".")
            # importing a.b.c runs a/__init__.py and a/b/__init__.py first
            for depth in range(1, len(parts) + 1):
                prefix = ".".join(parts[:depth])
                if module_file(prefix, repo):
                    found.add(prefix)
    found.discard(name)
    return frozenset(found)


def module_closure(modules: Iterable[str], repo: Path = REPO) -> set[str]:
    """`modules`, their packages' `__init__` modules, and everything they import, transitively."""
    seen: set[str] = set()
    todo = []
    for name in modules:
        if module_file(name, repo) is None:
            raise ValueError(f"{name} is not a module of this project")
        parts = name.split(".")
        todo += [".".join(parts[:depth]) for depth in range(1, len(parts) + 1)]
    while todo:
        name = todo.pop()
        if name in seen or module_file(name, repo) is None:
            continue
        seen.add(name)
        todo.extend(imported_modules(name, repo))
    return seen


def code_files(modules: Iterable[str], repo: Path = REPO) -> list[str]:
    """The repository-relative files of `module_closure(modules)`, sorted: a task's code
    dependencies (relative, so a build state restored into another checkout stays valid)."""
    return list(_code_files(tuple(sorted(set(modules))), repo))


@functools.cache
def _code_files(modules: tuple[str, ...], repo: Path) -> tuple[str, ...]:
    """Once per set of modules: the ten nes_asm sub-tasks, say, all run the same step."""
    files = {module_file(name, repo) for name in module_closure(modules, repo)}
    return tuple(sorted(path.relative_to(repo).as_posix() for path in files if path is not None))
