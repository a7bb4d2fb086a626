"""Reviewing a drafts file: the one rule for what accepting, editing and rejecting a draft does, shared by
``mendoza cases review`` (the keyboard) and the viewer's drafts page.

A drafts file (written by ``cases draft|perturb|import|dedupe``) holds one ``{"case": {...}, "provenance":
{...}}`` a line. A line that is not such an object (invalid JSON, a torn write) is reported with its file and
line and left out; the others can be decided.

- **Accept**: the case (as drafted, or as edited) must be a valid case of the suite: its id set, the suite's var
  names exactly, an ``expected`` answer when the suite's cases have one. Its id must be new to the suite and to
  the cases file *as it is now* (re-read at every accept, so a file changed meanwhile is seen). It is appended to
  the cases file (the suite's ``cases:`` JSONL file, or one given) with its provenance under
  ``metadata.provenance`` (``"edited": true`` when edited), then the decision is recorded.
- **Reject**: the decision is recorded; nothing else changes.
- **Skip** is no decision: the draft stays pending.

Decisions are recorded beside the drafts file, in ``DRAFTS.decisions.jsonl``, one line each, keyed by the sha256
of the draft's line, so a second review resumes where the first stopped. The case is appended before its
decision: a review interrupted in between finds the case already in the file on the next accept, sees that it is
the same case, and only records the decision, so no case is ever appended twice.
"""

from __future__ import annotations

import errno
import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from mendoza.config.datasets import case_from_mapping, load_cases_file
from mendoza.config.suite_file import load_suite
from mendoza.config.yaml_source import read_yaml
from mendoza.core import Case, Suite
from mendoza.errors import ConfigError

__all__ = [
    "BadLine",
    "CaseIdTaken",
    "Decision",
    "Draft",
    "DraftDecided",
    "DraftReview",
    "DraftsFile",
    "cases_target",
    "decisions_path",
    "json_line",
    "read_drafts",
    "validate_case",
]

Decision = Literal["accept", "reject"]

#: What the user may fix by choosing another file; any other ``OSError`` (a full disk) is the machine's.
_USER_ERRNOS = frozenset({errno.EACCES, errno.EPERM, errno.EISDIR, errno.ENOTDIR, errno.ENOENT})


class CaseIdTaken(ConfigError):
    """An accepted case's id is in the suite or its cases file already (``case_id`` says which)."""

    def __init__(self, case_id: str, where: str) -> None:
        self.case_id = case_id
        super().__init__(f"case id '{case_id}' is already in the suite", where=where)


class DraftDecided(ConfigError):
    """A draft was decided already (by another review of the same file, in a terminal or a browser tab)."""

    def __init__(self, decision: str, where: str) -> None:
        self.decision = decision
        super().__init__(f"this draft was decided already ({decision})", where=where)


@dataclass(frozen=True, slots=True)
class Draft:
    """One draft: its line in the drafts file, its key (the sha256 of that line), the case as a mapping and
    where it came from."""

    line: int
    key: str
    row: dict[str, Any]
    provenance: dict[str, Any]

    @property
    def case_id(self) -> str:
        """The draft's case id as written (empty when it has none)."""
        value = self.row.get("id", "")
        return str(value) if value is not None else ""


@dataclass(frozen=True, slots=True)
class BadLine:
    """A line of a drafts file that is not a draft: ``where`` is ``file:line``."""

    line: int
    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


@dataclass(frozen=True, slots=True)
class DraftsFile:
    """The drafts of a file, in order (a line written twice appears once), and the lines that are not drafts."""

    path: Path
    drafts: tuple[Draft, ...]
    bad: tuple[BadLine, ...]


def decisions_path(drafts: Path) -> Path:
    """Where the decisions on ``drafts`` are recorded: ``<drafts>.decisions.jsonl`` beside it."""
    return drafts.with_name(drafts.name + ".decisions.jsonl")


def json_line(row: Any) -> str:
    """``row`` as one line of JSON: UTF-8 text as it is, unless it holds a lone surrogate (common in logged
    traffic), which UTF-8 cannot carry: then every non-ASCII character is escaped, and JSON keeps the value."""
    text = json.dumps(row, ensure_ascii=False)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return json.dumps(row)
    return text


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """The non-blank lines of a text file, numbered from 1; a file that is not UTF-8 is one ``ConfigError``."""
    try:
        with path.open(encoding="utf-8-sig") as handle:  # a BOM (Windows editors) is not data
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    yield number, line.strip()
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text: {exc.reason}", where=str(path)) from None
    except FileNotFoundError:
        raise ConfigError("file not found", where=str(path)) from None
    except OSError as exc:
        raise ConfigError(f"cannot read it ({exc.strerror or exc})", where=str(path)) from None


def _parse(text: str) -> tuple[Any, str | None]:
    """A line's JSON value, or None and why it is not JSON."""
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:
        return None, f"invalid JSON: {exc.msg} (column {exc.colno})"
    except RecursionError:
        return None, "invalid JSON: nested too deeply"
    except ValueError as exc:  # a number too long for Python
        return None, f"invalid JSON: {str(exc).split(';')[0]}"


def read_drafts(path: Path) -> DraftsFile:
    """The drafts of ``path``, each line that is not one reported in ``bad`` (never raised)."""
    drafts: list[Draft] = []
    bad: list[BadLine] = []
    seen: set[str] = set()
    for number, text in _lines(path):
        where = f"{path}:{number}"
        data, problem = _parse(text)
        if problem is None and (not isinstance(data, dict) or not isinstance(data.get("case"), dict)):
            problem = 'a draft must be {"case": {...}, "provenance": {...}}'
        elif problem is None and not isinstance(data.get("provenance", {}), dict):
            problem = "a draft's provenance must be a mapping"
        if problem is not None:
            bad.append(BadLine(number, where, problem))
            continue
        key = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()
        if key not in seen:
            seen.add(key)
            drafts.append(Draft(number, key, dict(data["case"]), dict(data.get("provenance") or {})))
    return DraftsFile(path, tuple(drafts), tuple(bad))


def _decisions(path: Path) -> dict[str, dict[str, Any]]:
    """The recorded decisions by draft key. A line that is not a decision (the torn end of an interrupted
    write) is ignored: its draft is simply still pending."""
    if not path.is_file():
        return {}
    decided: dict[str, dict[str, Any]] = {}
    for _, text in _lines(path):
        data, problem = _parse(text)
        if problem is None and isinstance(data, dict) and isinstance(data.get("draft"), str):
            decided[data["draft"]] = data
    return decided


def _append(path: Path, row: dict[str, Any]) -> None:
    """Append ``row`` as a line of ``path`` (after a line break, when the file does not end with one)."""
    try:
        needs_newline = False
        if path.is_file() and path.stat().st_size > 0:
            with path.open("rb") as handle:
                handle.seek(-1, 2)
                needs_newline = handle.read(1) != b"\n"
        with path.open("a", encoding="utf-8") as handle:
            handle.write(("\n" if needs_newline else "") + json_line(row) + "\n")
    except OSError as exc:
        if exc.errno in _USER_ERRNOS:
            raise ConfigError(f"cannot write it ({exc.strerror or exc})", where=str(path)) from None
        raise


def cases_target(suite_path: Path, cases_file: Path | None = None) -> Path:
    """The JSONL file accepted cases go to: ``cases_file``, else the suite's own ``cases:`` file."""
    if cases_file is not None:
        if cases_file.suffix.lower() not in (".jsonl", ".ndjson"):
            raise ConfigError("the cases file accepted cases go to must be a .jsonl file", where=str(cases_file))
        return cases_file
    document = read_yaml(suite_path / "suite.yaml" if suite_path.is_dir() else suite_path)
    named = document.data.get("cases") if isinstance(document.data, dict) else None
    if not isinstance(named, str):
        raise ConfigError("the suite's cases are inline: say where accepted cases go with --cases-file FILE.jsonl",
                          where=str(document.path))
    path = (document.path.parent / named).resolve()
    if path.suffix.lower() not in (".jsonl", ".ndjson"):
        raise ConfigError(f"the suite's cases file '{named}' is not JSONL: use --cases-file FILE.jsonl",
                          where=str(document.path))
    return path


def validate_case(row: Any, suite: Suite, where: str) -> Case:
    """``row`` as a case of ``suite``: a valid case with an id, the suite's var names (and an expected answer
    when the suite's cases have one). A ``ConfigError`` says what is wrong."""
    case = case_from_mapping(row, "", where)
    if not case.id:
        raise ConfigError("the case needs an 'id'", where=where)
    names: set[str] = set()
    for existing in suite.cases:
        names.update(existing.vars)
    missing, extra = sorted(names - set(case.vars)), sorted(set(case.vars) - names)
    if not case.messages and missing:
        raise ConfigError(f"the case lacks the suite's var(s): {', '.join(missing)}", where=where)
    if extra:
        raise ConfigError(f"the case has var(s) the suite's cases do not: {', '.join(extra)}", where=where)
    if any(existing.expected is not None for existing in suite.cases) and case.expected is None:
        raise ConfigError("the suite's cases have an 'expected' answer; this case has none", where=where)
    return case


class DraftReview:
    """The review of one drafts file into one suite's cases file. The drafts file is read again whenever it
    changes; decisions and the cases file are read at every decision."""

    def __init__(self, drafts_path: Path, suite: Suite, target: Path) -> None:
        self.drafts_path = drafts_path
        self.suite = suite
        self.target = target
        self.record = decisions_path(drafts_path)
        self._file: tuple[tuple[int, int], DraftsFile] | None = None

    @classmethod
    def open(cls, drafts_path: Path, suite_path: Path, cases_file: Path | None = None) -> DraftReview:
        """The review of ``drafts_path`` into the suite at ``suite_path`` (its ``cases:`` file, or
        ``cases_file``). Every mistake in the arguments is one ``ConfigError``."""
        suite = load_suite(suite_path)
        target = cases_target(suite_path, cases_file)
        review = cls(drafts_path, suite, target)
        review.file()  # a drafts file that cannot be read is a mistake now, not on the first page
        return review

    def file(self) -> DraftsFile:
        """The drafts file as it is now (parsed again only when its size or time changed)."""
        try:
            stat = self.drafts_path.stat()
        except OSError:
            raise ConfigError("drafts file not found", where=str(self.drafts_path)) from None
        stamp = (stat.st_mtime_ns, stat.st_size)
        if self._file is None or self._file[0] != stamp:
            self._file = (stamp, read_drafts(self.drafts_path))
        return self._file[1]

    def decided(self) -> dict[str, dict[str, Any]]:
        """The decisions recorded so far, by draft key."""
        return _decisions(self.record)

    def pending(self) -> list[Draft]:
        """The drafts not decided yet, in the file's order."""
        decided = self.decided()
        return [draft for draft in self.file().drafts if draft.key not in decided]

    def find(self, key: str) -> Draft:
        """The draft with this key (``ConfigError`` when the drafts file has none)."""
        for draft in self.file().drafts:
            if draft.key == key:
                return draft
        raise ConfigError("no such draft in the drafts file (was it changed?)", where=str(self.drafts_path))

    def where(self, draft: Draft) -> str:
        """``drafts.jsonl:LINE``: where messages about ``draft`` point."""
        return f"{self.drafts_path}:{draft.line}"

    def check(self, draft: Draft, row: Any = None) -> Case:
        """The draft's case (or ``row``, its edit) as a case of the suite; ``ConfigError`` when it is not."""
        return validate_case(draft.row if row is None else row, self.suite, self.where(draft))

    def decide(self, draft: Draft, decision: Decision, row: dict[str, Any] | None = None) -> Case | None:
        """Accept or reject ``draft`` (``row``: its edited case, for an accept). An accept returns the case
        appended. Refused with one ``ConfigError`` line: a draft decided already (``DraftDecided``), an invalid
        case, an id the suite or the cases file has (``CaseIdTaken``)."""
        previous = self.decided().get(draft.key)
        if previous is not None:
            raise DraftDecided(str(previous.get("decision", "?")), self.where(draft))
        edited = row is not None and row != draft.row
        kept = dict(draft.row if row is None else row)
        record: dict[str, Any] = {"draft": draft.key, "line": draft.line, "id": str(kept.get("id", "")),
                                  "decision": decision}
        if decision == "reject":
            _append(self.record, record)
            return None
        case = self.check(draft, kept)
        kept["metadata"] = dict(kept.get("metadata") or {}) | {
            "provenance": dict(draft.provenance) | ({"edited": True} if edited else {})
        }
        if not self._appended_before(draft, case.id, kept):
            _append(self.target, kept)
        record["edited"] = edited
        _append(self.record, record)
        return case

    def _appended_before(self, draft: Draft, case_id: str, kept: dict[str, Any]) -> bool:
        """Whether ``kept`` is in the cases file already (a review stopped between the case and its decision).
        Any other case with its id is a clash: ``CaseIdTaken``."""
        in_file = {case.id: case for case in load_cases_file(self.target)} if self.target.is_file() else {}
        if case_id in in_file and in_file[case_id] == case_from_mapping(kept, "", str(self.target)):
            return True
        if case_id in in_file or any(case.id == case_id for case in self.suite.cases):
            raise CaseIdTaken(case_id, self.where(draft))
        return False
