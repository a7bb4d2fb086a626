"""``mendoza cases review DRAFTS --suite SUITE``: nothing enters a suite unreviewed.

Each draft of a drafts file (``cases draft|perturb|import|dedupe``: one ``{"case": {...}, "provenance": {...}}``
a line) not yet decided is shown with its provenance, and a key read from the keyboard decides it, as
``mendoza label`` reads its answers: a (accept), r (reject), e (edit the case as JSON, validated as a case of
the suite), s (skip: asked again next time), q (quit). Accepted cases are appended to the suite's cases file
(its ``cases:`` JSONL file, or ``--cases-file``), the provenance kept under the case's ``metadata.provenance``;
an id the suite (or the cases file) already has is refused and the draft skipped.

Decisions are recorded beside the drafts file, in ``DRAFTS.decisions.jsonl``, one line each, keyed by the
sha256 of the draft's line: a second review resumes where the first stopped. A case is appended before its
decision is written, and an accepted id is always checked against the cases file, so an interrupted review
never appends a case twice.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click

from mendoza import api
from mendoza.cli.failures import is_machine_failure
from mendoza.cli.text import plain
from mendoza.config.datasets import case_from_mapping, load_cases_file
from mendoza.config.yaml_source import read_yaml
from mendoza.core import Case, Suite
from mendoza.errors import ConfigError

__all__ = ["decisions_path", "review_command"]

_HELP = "a accept, r reject, e edit, s skip, q quit"
_KEYS = {
    "a": "accept", "accept": "accept", "r": "reject", "reject": "reject", "e": "edit", "edit": "edit",
    "s": "skip", "skip": "skip", "": "skip", "q": "quit", "quit": "quit",
}


@dataclass(slots=True)
class _Draft:
    line: int
    key: str
    row: dict[str, Any]
    provenance: dict[str, Any]


def decisions_path(drafts: Path) -> Path:
    """Where the decisions on ``drafts`` are recorded: ``<drafts>.decisions.jsonl`` beside it."""
    return drafts.with_name(drafts.name + ".decisions.jsonl")


def _read_jsonl(path: Path) -> Iterator[tuple[int, str, Any]]:
    try:
        with path.open(encoding="utf-8-sig") as handle:
            for number, line in enumerate(handle, start=1):
                if not line.strip():
                    continue
                try:
                    yield number, line.strip(), json.loads(line)
                except json.JSONDecodeError as exc:
                    message = f"invalid JSON: {exc.msg} (column {exc.colno})"
                    raise ConfigError(message, where=f"{path}:{number}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 text: {exc.reason}", where=str(path)) from None


def _drafts(path: Path) -> list[_Draft]:
    drafts = []
    for number, text, data in _read_jsonl(path):
        where = f"{path}:{number}"
        if not isinstance(data, dict) or not isinstance(data.get("case"), dict):
            raise ConfigError('a draft must be {"case": {...}, "provenance": {...}}', where=where)
        provenance = data.get("provenance", {})
        if not isinstance(provenance, dict):
            raise ConfigError("a draft's provenance must be a mapping", where=where)
        key = hashlib.sha256(text.encode("utf-8")).hexdigest()
        drafts.append(_Draft(number, key, dict(data["case"]), provenance))
    return drafts


def _decided(path: Path) -> set[str]:
    if not path.is_file():
        return set()
    return {str(data["draft"]) for _, _, data in _read_jsonl(path) if isinstance(data, dict) and "draft" in data}


def _append(path: Path, row: dict[str, Any]) -> None:
    try:
        needs_newline = path.is_file() and path.stat().st_size > 0 and not path.read_bytes().endswith(b"\n")
        with path.open("a", encoding="utf-8") as handle:
            handle.write(("\n" if needs_newline else "") + json.dumps(row, ensure_ascii=False) + "\n")
    except OSError as exc:
        if is_machine_failure(exc):
            raise
        raise click.FileError(plain(path, 300), hint=exc.strerror or str(exc)) from None


def _target(suite_path: Path, cases_file: Path | None) -> Path:
    """The JSONL file accepted cases go to: ``--cases-file``, else the suite's own ``cases:`` file."""
    if cases_file is not None:
        if cases_file.suffix.lower() not in (".jsonl", ".ndjson"):
            raise click.UsageError("--cases-file must be a .jsonl file")
        return cases_file
    document = read_yaml(suite_path if suite_path.is_file() else suite_path / "suite.yaml")
    named = document.data.get("cases") if isinstance(document.data, dict) else None
    if not isinstance(named, str):
        raise click.UsageError("the suite's cases are inline: say where accepted cases go with --cases-file FILE.jsonl")
    path = (document.path.parent / named).resolve()
    if path.suffix.lower() not in (".jsonl", ".ndjson"):
        raise click.UsageError(f"the suite's cases file '{named}' is not JSONL: use --cases-file FILE.jsonl")
    return path


def _schema(suite: Suite) -> tuple[set[str], bool]:
    names: set[str] = set()
    for case in suite.cases:
        names.update(case.vars)
    return names, any(case.expected is not None for case in suite.cases)


def _validate(row: Any, suite: Suite, where: str) -> Case:
    """``row`` as a case of ``suite``: a valid case, with the suite's var names (and an expected answer when the
    suite's cases have one). ``ConfigError`` says what is wrong."""
    case = case_from_mapping(row, "", where)
    if not case.id:
        raise ConfigError("the case needs an 'id'", where=where)
    names, has_expected = _schema(suite)
    missing, extra = sorted(names - set(case.vars)), sorted(set(case.vars) - names)
    if not case.messages and missing:
        raise ConfigError(f"the case lacks the suite's var(s): {', '.join(missing)}", where=where)
    if extra:
        raise ConfigError(f"the case has var(s) the suite's cases do not: {', '.join(extra)}", where=where)
    if has_expected and case.expected is None:
        raise ConfigError("the suite's cases have an 'expected' answer; this case has none", where=where)
    return case


def _show(draft: _Draft, case: Case | None, position: int, total: int) -> None:
    click.echo(f"\n[{position}/{total}] draft line {draft.line}: {plain(draft.row.get('id', '?'), 200)}")
    if case is not None:
        for name, value in case.vars.items():
            click.echo(f"  {plain(name, 80)}: {plain(value, 2000, one_line=False)}")
        if case.expected is not None:
            click.echo(f"  expected: {plain(json.dumps(case.expected, ensure_ascii=False), 2000)}")
        if case.tags:
            click.echo(f"  tags: {plain(', '.join(case.tags), 500)}")
    provenance = ", ".join(f"{key}={json.dumps(value, ensure_ascii=False)}" for key, value in draft.provenance.items())
    click.echo(f"  provenance: {plain(provenance or '(none)', 1000)}")


def _edit(row: dict[str, Any], suite: Suite, where: str) -> tuple[dict[str, Any], Case] | None:
    """The case edited in the user's editor, or None (left unchanged, or invalid: one line says why)."""
    text = click.edit(json.dumps(row, indent=2, ensure_ascii=False) + "\n", extension=".json")
    if text is None:
        click.echo("not edited")
        return None
    try:
        edited = json.loads(text)
    except json.JSONDecodeError as exc:
        click.echo(f"invalid edit: not JSON ({exc.msg}, line {exc.lineno}); the draft is unchanged")
        return None
    try:
        case = _validate(edited, suite, where)
    except ConfigError as exc:
        click.echo(f"invalid edit: {plain(exc, 500)}; the draft is unchanged")
        return None
    return edited, case


@click.command("review")
@click.argument("drafts_path", metavar="DRAFTS", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--suite", "suite_path", required=True, type=click.Path(exists=True, path_type=Path),
              help="The suite the accepted cases join.")
@click.option("--cases-file", type=click.Path(dir_okay=False, path_type=Path),
              help="The JSONL file accepted cases are appended to (default: the suite's 'cases:' file; needed when "
                   "the suite's cases are inline).")
def review_command(drafts_path: Path, suite_path: Path, cases_file: Path | None) -> None:
    """Review the drafts in DRAFTS one by one, from the keyboard: a accept, r reject, e edit, s skip, q quit.
    Accepted cases are appended to the suite's cases file with their provenance under metadata.provenance;
    decisions are kept in DRAFTS.decisions.jsonl, so a second review resumes where the first stopped."""
    suite = api.load_suite(suite_path)
    target = _target(suite_path, cases_file)
    drafts = _drafts(drafts_path)
    record = decisions_path(drafts_path)
    decided = _decided(record)
    pending = [draft for draft in drafts if draft.key not in decided]
    if not pending:
        click.echo(f"nothing to review: every draft of {plain(drafts_path, 300)} is decided")
        return
    click.echo(f"{len(pending)} drafts to review ({len(drafts) - len(pending)} decided before). {_HELP}")
    counts = {"accept": 0, "reject": 0, "skip": 0}
    for position, draft in enumerate(pending, start=1):
        action = _review_one(draft, position, len(pending), suite, target, record, drafts_path)
        if action == "quit":
            break
        counts[action] += 1
    click.echo(
        f"accepted {counts['accept']}, rejected {counts['reject']}, skipped {counts['skip']}; "
        f"accepted cases go to {plain(target, 300)}"
    )


def _existing_ids(suite: Suite, target: Path) -> set[str]:
    ids = {case.id for case in suite.cases}
    if target.is_file():
        ids.update(case.id for case in load_cases_file(target))
    return ids


def _review_one(
    draft: _Draft, position: int, total: int, suite: Suite, target: Path, record: Path, drafts_path: Path
) -> str:
    """Show one draft and act on the keys typed; returns accept, reject, skip or quit."""
    where = f"{drafts_path}:{draft.line}"
    row = draft.row
    edited = False
    try:
        case: Case | None = _validate(row, suite, where)
    except ConfigError as exc:
        case = None
        click.echo(f"  this draft is not a valid case of the suite: {plain(exc, 500)} (e edits it, r rejects it)")
    _show(draft, case, position, total)
    while True:
        try:
            answer = click.prompt("review", default="", show_default=False, prompt_suffix=" > ")
        except click.exceptions.Abort:
            return "quit"  # end of input (Ctrl-D, Ctrl-C, a closed pipe): stop; every decision made is kept
        action = _KEYS.get(answer.strip().lower())
        if action is None:
            click.echo(f"unknown answer. {_HELP}")
            continue
        if action == "edit":
            result = _edit(row, suite, where)
            if result is not None:
                row, case = result
                edited = True
                _show(draft, case, position, total)
            continue
        if action == "accept" and case is None:
            click.echo("this draft is not a valid case of the suite: e edits it, r rejects it, s skips it")
            continue
        break
    if action in ("quit", "skip"):
        return action
    decision: dict[str, Any] = {"draft": draft.key, "line": draft.line, "id": str(row.get("id", "")),
                                "decision": action}
    if action == "accept":
        assert case is not None
        if case.id in _existing_ids(suite, target):
            click.echo(f"case id '{plain(case.id, 200)}' is already in the suite: draft skipped (e changes its id)")
            return "skip"
        provenance = dict(draft.provenance) | ({"edited": True} if edited else {})
        kept = dict(row)
        metadata = dict(kept.get("metadata") or {})
        metadata["provenance"] = provenance
        kept["metadata"] = metadata
        _append(target, kept)
        decision["edited"] = edited
        click.echo(f"accepted: {plain(case.id, 200)}")
    else:
        click.echo(f"rejected: {plain(row.get('id', '?'), 200)}")
    _append(record, decision)
    return str(action)
