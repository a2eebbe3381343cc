"""Read the symbols of an ld65 --dbgfile: `sym` lines give name, value, size and scope.

symbols = read_symbols(path); symbols.address("nn_input")
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Symbol:
    name: str
    value: int
    size: int | None
    scope: int | None
    kind: str  # lab (label) or equ (constant)


class Symbols:
    def __init__(self, symbols: list[Symbol], scopes: dict[int, str]):
        self.all = symbols
        self.scopes = scopes  # scope id -> name ("" is the global scope)

    def find(self, name: str, scope: str | None = "") -> list[Symbol]:
        """Symbols called `name`; scope "" = global only, None = any scope."""
        return [s for s in self.all if s.name == name and (scope is None or self.scopes.get(s.scope, "") == scope)]

    def address(self, name: str) -> int:
        found = self.find(name) or self.find(name, scope=None)
        values = {s.value for s in found}
        if len(values) != 1:
            raise KeyError(f"symbol {name!r}: {'not found' if not values else f'ambiguous {sorted(values)}'}")
        return values.pop()

    def size(self, name: str) -> int | None:
        found = self.find(name) or self.find(name, scope=None)
        return found[0].size if found else None


def _fields(line: str) -> tuple[str, dict[str, str]]:
    kind, _, rest = line.partition("\t")
    fields = {}
    for item in rest.split(","):  # ca65 names cannot contain commas
        key, _, value = item.partition("=")
        fields[key.strip()] = value.strip().strip('"')
    return kind, fields


def _int(text: str) -> int:
    return int(text, 0)


def read_symbols(path: Path) -> Symbols:
    symbols, scopes = [], {}
    for line in Path(path).read_text().splitlines():
        kind, fields = _fields(line)
        if kind == "scope":
            scopes[_int(fields["id"])] = fields.get("name", "")
        elif kind == "sym" and "val" in fields:
            symbols.append(
                Symbol(
                    name=fields["name"],
                    value=_int(fields["val"]),
                    size=_int(fields["size"]) if "size" in fields else None,
                    scope=_int(fields["scope"]) if "scope" in fields else None,
                    kind=fields.get("type", ""),
                )
            )
    return Symbols(symbols, scopes)
