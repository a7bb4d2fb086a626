"""Turn logged requests (JSONL or CSV) into draft cases: ``mendoza cases import``.

Rows are read one at a time. A field of a row is named by a small JSONPath subset (``$.a.b``, ``$.a[0].b``,
``$['a.b']``), which is all a log mapping needs; no JSONPath library is installed, so it is written here.
Every string of a case is redacted before anything is kept (e-mail addresses and phone numbers by default,
plus any regex and a ``python:module:function``), and each draft carries its provenance (file, line, how many
redactions). With ``max_cases`` the rows are sampled, stratified by a field when asked: proportional
allocation with at least one row per stratum when the cap allows, seeded. Sampling reads the file twice (once
for the strata, once for the chosen rows) so memory holds only line numbers and stratum names.
"""

from __future__ import annotations

import csv
import hashlib
import importlib
import json
import os
import random
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mendoza.core import Case
from mendoza.errors import ConfigError

__all__ = [
    "BadRow",
    "Draft",
    "ImportOptions",
    "ImportResult",
    "Redactor",
    "allocate",
    "default_redactors",
    "extract",
    "import_traffic",
    "parse_mapping",
    "parse_path",
    "python_redactor",
    "regex_redactor",
]

#: A redactor takes a text and returns the redacted text and how many redactions it made.
Redactor = Callable[[str], tuple[str, int]]

#: The stratum of a row that has no value at the ``stratify`` path.
MISSING_STRATUM = "(missing)"

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# A run of digit groups with an optional +country code or (area code); _phone_count keeps 7 to 15 digits.
_PHONE = re.compile(r"(?<![\w+])(?:\+\d{1,3}[\s.-]?)?(?:\(\d{1,4}\)[\s.-]?)?\d{2,5}(?:[\s.-]?\d{2,5}){1,4}(?!\w)")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_STEP = re.compile(r"\.([A-Za-z_][\w-]*)|\[(\d+)\]|\[['\"]([^'\"]*)['\"]\]")


@dataclass(frozen=True, slots=True)
class Draft:
    """One imported case (as a mapping a cases file accepts) with where it came from."""

    case: dict[str, Any]
    provenance: dict[str, Any]

    def to_json(self) -> str:
        return json.dumps({"case": self.case, "provenance": self.provenance}, ensure_ascii=False)


@dataclass(frozen=True, slots=True)
class BadRow:
    """A row that could not be read or mapped: ``where`` is ``file:line``."""

    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


@dataclass(frozen=True)
class ImportOptions:
    """What to take from each row and how many rows. ``mapping`` is var name -> path."""

    mapping: Mapping[str, str]
    expected: str | None = None
    id_path: str | None = None
    stratify: str | None = None
    max_cases: int | None = None
    seed: int = 0
    skip_bad: bool = False
    redactors: tuple[Redactor, ...] = field(default_factory=lambda: default_redactors())


@dataclass
class ImportResult:
    drafts: list[Draft]
    bad_rows: list[BadRow]
    rows_read: int
    strata: dict[str, tuple[int, int]] = field(default_factory=dict)  # stratum -> (rows, chosen)


# --- paths ---------------------------------------------------------------------------------------------------


def parse_path(text: str) -> tuple[str | int, ...]:
    """``$.a[0].b`` -> ``("a", 0, "b")``; anything outside the subset is a ``ConfigError``."""
    source = text.strip()
    if not source.startswith("$"):
        raise ConfigError(f"path {text!r} must start with '$' (like $.request.text)")
    steps: list[str | int] = []
    position = 1
    while position < len(source):
        match = _STEP.match(source, position)
        if match is None:
            raise ConfigError(
                f"path {text!r}: cannot read {source[position:]!r} (supported: $.a.b, $.a[0].b, $['a.b'])"
            )
        name, index, quoted = match.groups()
        steps.append(int(index) if index is not None else (name if name is not None else quoted))
        position = match.end()
    return tuple(steps)


class _Missing(Exception):
    pass


def extract(row: Any, path: tuple[str | int, ...]) -> Any:
    """The value at ``path`` in ``row``; raises ``_Missing`` (with the step that failed) when there is none."""
    value = row
    for depth, step in enumerate(path):
        if isinstance(step, int):
            if not isinstance(value, list) or step >= len(value):
                raise _Missing(_words(path[: depth + 1]))
            value = value[step]
        else:
            if not isinstance(value, dict) or step not in value:
                raise _Missing(_words(path[: depth + 1]))
            value = value[step]
    return value


def _words(path: tuple[str | int, ...]) -> str:
    return "$" + "".join(f"[{step}]" if isinstance(step, int) else f".{step}" for step in path)


def parse_mapping(items: tuple[str, ...] | list[str]) -> dict[str, str]:
    """``["ticket=$.request.text", ...]`` -> ``{"ticket": "$.request.text"}``, each path checked."""
    mapping: dict[str, str] = {}
    for item in items:
        name, sep, path = item.partition("=")
        name = name.strip()
        if not sep or not name.isidentifier():
            raise ConfigError(f"--map {item!r}: expected NAME=PATH, like ticket=$.request.text")
        if name in mapping:
            raise ConfigError(f"--map names {name!r} twice")
        parse_path(path)
        mapping[name] = path.strip()
    if not mapping:
        raise ConfigError("give at least one --map NAME=PATH")
    return mapping


# --- redaction -----------------------------------------------------------------------------------------------


def _phone(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = sum(char.isdigit() for char in text)
    if not 7 <= digits <= 15 or _ISO_DATE.fullmatch(text) or (text.isdigit() and not 10 <= digits <= 15):
        return text  # a date, a short number, or an order number: not a phone number
    return "[phone]"


def _sub_counting(pattern: re.Pattern[str], text: str, repl: str | Callable[[re.Match[str]], str]) -> tuple[str, int]:
    count = 0

    def replace(match: re.Match[str]) -> str:
        nonlocal count
        new = repl(match) if callable(repl) else repl
        count += new != match.group(0)
        return new

    return pattern.sub(replace, text), count


def default_redactors() -> tuple[Redactor, ...]:
    """E-mail addresses -> ``[email]``, then phone numbers -> ``[phone]``."""
    return (
        lambda text: _sub_counting(_EMAIL, text, "[email]"),
        lambda text: _sub_counting(_PHONE, text, _phone),
    )


def regex_redactor(pattern: str, replacement: str = "[redacted]") -> Redactor:
    """Every match of ``pattern`` -> ``replacement``."""
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise ConfigError(f"--redact {pattern!r}: invalid regex: {exc}") from None
    return lambda text: _sub_counting(compiled, text, replacement)


def python_redactor(target: str) -> Redactor:
    """``python:module:function`` (a function str -> str) as a redactor; a changed text counts as one."""
    spec = target.removeprefix("python:")
    module_name, sep, function_name = spec.rpartition(":")
    if not sep or not module_name or not function_name:
        raise ConfigError(f"--redact-with {target!r}: expected python:module:function")
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:  # the `mendoza` script does not put the cwd on sys.path
        sys.path.append(cwd)
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # any import failure is the user's module
        raise ConfigError(f"--redact-with {target!r}: cannot import {module_name}: {exc}") from None
    function = getattr(module, function_name, None)
    if not callable(function):
        raise ConfigError(f"--redact-with {target!r}: {module_name} has no function {function_name}")

    def redact(text: str) -> tuple[str, int]:
        result = function(text)
        if not isinstance(result, str):
            raise ConfigError(f"--redact-with {target!r} returned {type(result).__name__}, not str")
        return result, int(result != text)

    return redact


def _redact(value: Any, redactors: tuple[Redactor, ...]) -> tuple[Any, int]:
    """``value`` with every string in it redacted, and the number of redactions."""
    if isinstance(value, str):
        total = 0
        for redactor in redactors:
            value, count = redactor(value)
            total += count
        return value, total
    if isinstance(value, list):
        items = [_redact(item, redactors) for item in value]
        return [item for item, _ in items], sum(count for _, count in items)
    if isinstance(value, dict):
        pairs = {key: _redact(item, redactors) for key, item in value.items()}
        return {key: item for key, (item, _) in pairs.items()}, sum(count for _, count in pairs.values())
    return value, 0


# --- reading -------------------------------------------------------------------------------------------------


def _rows(path: Path) -> Iterator[tuple[int, Any | BadRow]]:
    """(line, row or BadRow) for every non-empty row of a ``.jsonl`` or ``.csv`` file, streaming."""
    suffix = path.suffix.lower()
    if not path.is_file():
        raise ConfigError("traffic file not found", where=str(path))
    if suffix in (".jsonl", ".ndjson"):
        with path.open(encoding="utf-8-sig", errors="replace") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    yield number, json.loads(line)
                except (json.JSONDecodeError, RecursionError, ValueError) as exc:
                    reason = f"invalid JSON: {exc.msg}" if isinstance(exc, json.JSONDecodeError) else "invalid JSON"
                    yield number, BadRow(f"{path}:{number}", reason)
    elif suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="", errors="replace") as handle:
            reader = csv.DictReader(handle)
            if not reader.fieldnames:
                raise ConfigError("CSV file has no header row", where=str(path))
            width = len(reader.fieldnames)
            try:
                for row in reader:
                    if None in row:
                        yield reader.line_num, BadRow(f"{path}:{reader.line_num}", f"row has more than {width} fields")
                        continue
                    yield reader.line_num, {key: value for key, value in row.items() if value is not None}
            except csv.Error as exc:
                raise ConfigError(f"invalid CSV: {exc}", where=f"{path}:{reader.line_num}") from None
    else:
        raise ConfigError("traffic file must be .jsonl or .csv", where=str(path))


def _bad(bad: BadRow, options: ImportOptions, found: list[BadRow]) -> None:
    if not options.skip_bad:
        raise ConfigError(f"{bad.reason} (--skip-bad skips such rows)", where=bad.where)
    found.append(bad)


def _stable_id(case: dict[str, Any]) -> str:
    digest = hashlib.sha256(json.dumps(case, sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    return f"import-{digest[:12]}"


@dataclass(frozen=True)
class _Compiled:
    mapping: dict[str, tuple[str | int, ...]]
    expected: tuple[str | int, ...] | None
    id_path: tuple[str | int, ...] | None
    stratify: tuple[str | int, ...] | None


def _compile(options: ImportOptions) -> _Compiled:
    return _Compiled(
        {name: parse_path(path) for name, path in options.mapping.items()},
        parse_path(options.expected) if options.expected else None,
        parse_path(options.id_path) if options.id_path else None,
        parse_path(options.stratify) if options.stratify else None,
    )


def _draft(row: Any, line: int, path: Path, compiled: _Compiled, options: ImportOptions) -> Draft | BadRow:
    where = f"{path}:{line}"
    try:
        raw_vars = {name: extract(row, steps) for name, steps in compiled.mapping.items()}
        expected = extract(row, compiled.expected) if compiled.expected is not None else None
        raw_id = extract(row, compiled.id_path) if compiled.id_path is not None else None
    except _Missing as missing:
        return BadRow(where, f"no value at {missing}")
    values, redacted = _redact({"vars": raw_vars, "expected": expected, "id": raw_id}, options.redactors)
    case: dict[str, Any] = {"vars": values["vars"]}
    if compiled.expected is not None:
        case["expected"] = values["expected"]
    if raw_id is None:
        case_id = _stable_id(case)
    elif isinstance(values["id"], (str, int)) and not isinstance(values["id"], bool) and str(values["id"]):
        case_id = str(values["id"])
    else:
        return BadRow(where, f"id at {options.id_path} must be a non-empty string or integer")
    try:
        Case(id=case_id, **case)
    except ValueError as exc:
        return BadRow(where, f"not a valid case: {str(exc).splitlines()[0]}")
    provenance = {"kind": "import", "file": str(path), "line": line, "redacted": redacted}
    return Draft({"id": case_id, **case}, provenance)


def _stratum(row: Any, steps: tuple[str | int, ...] | None) -> str:
    if steps is None:
        return ""
    try:
        value = extract(row, steps)
    except _Missing:
        return MISSING_STRATUM
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def allocate(sizes: Mapping[str, int], total: int) -> dict[str, int]:
    """How many rows to take from each stratum: proportional to its size (largest remainders), at least one
    from each when ``total`` allows, never more than a stratum has. Deterministic (ties by name)."""
    population = sum(sizes.values())
    if total >= population:
        return dict(sizes)
    names = sorted(sizes)
    if total < len(names):  # not one each: the largest strata get one
        chosen = sorted(names, key=lambda name: (-sizes[name], name))[:total]
        return {name: int(name in chosen) for name in names}
    quotas = {name: total * sizes[name] / population for name in names}
    counts = {name: max(1, min(sizes[name], int(quotas[name]))) for name in names}
    while sum(counts.values()) > total:  # the minimum of one pushed it over: take from the most over quota
        name = max((n for n in names if counts[n] > 1), key=lambda n: (counts[n] - quotas[n], n))
        counts[name] -= 1
    while sum(counts.values()) < total:
        name = max((n for n in names if counts[n] < sizes[n]), key=lambda n: (quotas[n] - counts[n], sizes[n], n))
        counts[name] += 1
    return counts


def _choose(
    path: Path, compiled: _Compiled, options: ImportOptions, bad: list[BadRow]
) -> tuple[set[int], dict[str, tuple[int, int]]]:
    """First pass: the line numbers to import, and per stratum (rows, chosen)."""
    strata: dict[str, list[int]] = {}
    for line, row in _rows(path):
        if isinstance(row, BadRow):
            _bad(row, options, bad)
            continue
        strata.setdefault(_stratum(row, compiled.stratify), []).append(line)
    assert options.max_cases is not None
    counts = allocate({name: len(lines) for name, lines in strata.items()}, options.max_cases)
    rng = random.Random(options.seed)
    chosen: set[int] = set()
    for name in sorted(strata):
        chosen.update(rng.sample(strata[name], counts[name]))
    return chosen, {name: (len(strata[name]), counts[name]) for name in sorted(strata)}


def import_traffic(path: Path, options: ImportOptions) -> ImportResult:
    """Read ``path`` and return the drafts (in file order), the skipped rows and how many rows were read.

    A bad row (unreadable, or without a mapped value) raises a one-line ``ConfigError`` naming ``file:line``
    unless ``options.skip_bad``. A chosen row that turns out bad is skipped too, so with ``skip_bad`` a sample
    may hold fewer than ``max_cases`` drafts.
    """
    compiled = _compile(options)
    bad: list[BadRow] = []
    chosen: set[int] | None = None
    strata: dict[str, tuple[int, int]] = {}
    if options.max_cases is not None:
        chosen, strata = _choose(path, compiled, options, bad)
        bad.clear()  # the second pass finds them again
    drafts: list[Draft] = []
    seen: dict[str, int] = {}
    read = 0
    for line, row in _rows(path):
        read += 1
        if isinstance(row, BadRow):
            _bad(row, options, bad)
            continue
        if chosen is not None and line not in chosen:
            continue
        draft = _draft(row, line, path, compiled, options)
        if isinstance(draft, BadRow):
            _bad(draft, options, bad)
            continue
        case_id = draft.case["id"]
        seen[case_id] = seen.get(case_id, 0) + 1
        if seen[case_id] > 1:  # the same content twice (or a repeated id): keep ids unique in the drafts
            draft = Draft({**draft.case, "id": f"{case_id}-{seen[case_id]}"}, draft.provenance)
        drafts.append(draft)
    return ImportResult(drafts, bad, read, strata)
