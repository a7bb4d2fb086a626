"""Cases from inline lists, JSONL and CSV files, each bad row reported with its file and line.

Rows are untrusted input: a row nested deeper than ``MAX_DEPTH``, a key or column written twice, a CSV
field over ``MAX_CSV_FIELD`` characters or a number too long for Python is one ``ConfigError`` naming
``file:line``, never a traceback. A lone surrogate is kept (the store writes it as U+FFFD, with a note).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from mendoza.core import Case
from mendoza.errors import ConfigError

__all__ = ["case_from_mapping", "load_cases_file"]

_CASE_KEYS = {"id", "vars", "expected", "tags", "metadata", "messages"}
#: How deep a row's values may nest (the same limit as suite files).
MAX_DEPTH = 100
#: The longest CSV field read (Python's csv module stops at 131,072 characters by default).
MAX_CSV_FIELD = 64 * 1024 * 1024
csv.field_size_limit(MAX_CSV_FIELD)


def _check_value(value: Any, where: str) -> None:
    """Refuse a value nested too deeply. A lone surrogate (JSON's ``"\\ud800"``, common in logged traffic) is
    kept: the store writes it as U+FFFD and notes on the run that it did, so one broken row costs nothing."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ConfigError(f"values nest more than {MAX_DEPTH} levels deep", where=where)
        if isinstance(item, dict):
            stack.extend((part, depth + 1) for pair in item.items() for part in pair)
        elif isinstance(item, list):
            stack.extend((part, depth + 1) for part in item)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` for ``json.loads``: a key twice in one object is an error, not last-wins."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise _DuplicateKey(key)
        result[key] = value
    return result


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def case_from_mapping(row: Any, default_id: str, where: str) -> Case:
    """One case from a mapping. Without a ``vars`` key, every key but id/expected/tags/metadata is a var."""
    if not isinstance(row, dict):
        raise ConfigError(f"a case must be a mapping, not {type(row).__name__}", where=where)
    if "vars" in row:
        unknown = sorted(set(row) - _CASE_KEYS)
        if unknown:
            raise ConfigError(
                f"unknown case key(s) {', '.join(map(repr, unknown))} next to 'vars' "
                f"(allowed: {', '.join(sorted(_CASE_KEYS))})",
                where=where,
            )
        fields = dict(row)
    else:
        fields = {key: row[key] for key in row if key in _CASE_KEYS}
        fields["vars"] = {key: value for key, value in row.items() if key not in _CASE_KEYS}
    fields.setdefault("id", default_id)
    if isinstance(fields.get("tags"), str):
        fields["tags"] = [tag.strip() for tag in fields["tags"].split(",") if tag.strip()]
    try:
        return Case.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        raise ConfigError(f"case field '{field}': {first['msg']}", where=where) from None


def _jsonl_rows(path: Path) -> Iterator[tuple[int, Any]]:
    with path.open(encoding="utf-8-sig") as handle:  # a BOM (Windows editors) is not data
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                row = json.loads(line, object_pairs_hook=_unique_keys)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"invalid JSON: {exc.msg} (column {exc.colno})", where=where) from None
            except _DuplicateKey as exc:
                raise ConfigError(f"duplicate key {exc.key[:80]!r} in one object; keep one", where=where) from None
            except RecursionError:
                message = f"invalid JSON: nested too deeply (at most {MAX_DEPTH} levels)"
                raise ConfigError(message, where=where) from None
            except ValueError as exc:  # a number too long for Python (over 4,300 digits)
                raise ConfigError(f"invalid JSON: {exc}".split(";")[0], where=where) from None
            _check_value(row, where)
            yield number, row


def _csv_rows(path: Path) -> Iterator[tuple[int, Any]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:  # Excel writes a BOM
        reader = csv.DictReader(handle)
        try:
            if not reader.fieldnames:
                raise ConfigError("CSV file has no header row", where=str(path))
            names = list(reader.fieldnames)
            duplicate = next((name for name in names if names.count(name) > 1), None)
            if duplicate is not None:
                raise ConfigError(f"duplicate column {duplicate[:80]!r} in the header; keep one", where=f"{path}:1")
            for row in reader:
                if None in row:
                    raise ConfigError(
                        f"row has {len(names) + len(row[None])} fields, header has {len(names)}",
                        where=f"{path}:{reader.line_num}",
                    )
                yield reader.line_num, {key: value for key, value in row.items() if value is not None}
        except csv.Error as exc:
            limit = f" (a field may have at most {MAX_CSV_FIELD:,} characters)" if "field larger" in str(exc) else ""
            raise ConfigError(f"invalid CSV: {exc}{limit}", where=f"{path}:{reader.line_num}") from None


def load_cases_file(path: Path) -> list[Case]:
    """Read cases from a ``.jsonl`` or ``.csv`` file; ids default to ``<file stem>-<line>``."""
    suffix = path.suffix.lower()
    if not path.is_file():
        raise ConfigError("cases file not found", where=str(path))
    rows: Iterable[tuple[int, Any]]
    if suffix in (".jsonl", ".ndjson"):
        rows = _jsonl_rows(path)
    elif suffix == ".csv":
        rows = _csv_rows(path)
    else:
        raise ConfigError("cases file must end in .jsonl or .csv", where=str(path))
    try:
        cases: list[Case] = []
        first_lines: dict[str, int] = {}
        for line, row in rows:
            case = case_from_mapping(row, f"{path.stem}-{line}", f"{path}:{line}")
            if case.id in first_lines:
                message = f"duplicate case id '{case.id}' (first on line {first_lines[case.id]})"
                raise ConfigError(message, where=f"{path}:{line}")
            first_lines[case.id] = line
            cases.append(case)
        return cases
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text: {exc.reason}", where=str(path)) from None
