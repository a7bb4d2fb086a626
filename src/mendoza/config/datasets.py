"""Cases from inline lists, JSONL and CSV files, each bad row reported with its file and line."""

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

_CASE_KEYS = {"id", "vars", "expected", "tags", "metadata"}


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
            try:
                yield number, json.loads(line)
            except json.JSONDecodeError as exc:
                message = f"invalid JSON: {exc.msg} (column {exc.colno})"
                raise ConfigError(message, where=f"{path}:{number}") from None


def _csv_rows(path: Path) -> Iterator[tuple[int, Any]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:  # Excel writes a BOM
        reader = csv.DictReader(handle)
        if not reader.fieldnames:
            raise ConfigError("CSV file has no header row", where=str(path))
        for row in reader:
            if None in row:
                raise ConfigError(
                    f"row has {len(reader.fieldnames) + len(row[None])} fields, header has "
                    f"{len(reader.fieldnames)}",
                    where=f"{path}:{reader.line_num}",
                )
            yield reader.line_num, {key: value for key, value in row.items() if value is not None}


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
        return [case_from_mapping(row, f"{path.stem}-{line}", f"{path}:{line}") for line, row in rows]
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text: {exc.reason}", where=str(path)) from None
