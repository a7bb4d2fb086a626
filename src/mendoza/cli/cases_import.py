"""``mendoza cases import`` (logged requests -> a drafts file, redacted, sampled, deduplicated) and ``mendoza
cases dedupe`` (drop drafts that repeat the suite or each other). Nothing here enters the suite: both write a
drafts file, one ``{"case": ..., "provenance": ...}`` per line, for review."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from mendoza import api
from mendoza.cli.text import clip, make_console
from mendoza.config.dedupe import DEFAULT_THRESHOLD, Dropped, dedupe
from mendoza.config.traffic import (
    ImportOptions,
    Redactor,
    default_redactors,
    import_traffic,
    parse_mapping,
    python_redactor,
    regex_redactor,
)
from mendoza.errors import ConfigError

__all__ = ["dedupe_command", "import_command"]

#: How many dropped drafts and bad rows are listed (the rest are counted).
LISTED = 20

_threshold_option = click.option(
    "--threshold", type=click.FloatRange(0.0, 1.0, min_open=True), default=DEFAULT_THRESHOLD, show_default=True,
    help="Jaccard similarity (of word shingles) from which a draft is a near duplicate.",
)
_output_option = click.option(
    "--output", "-o", type=click.Path(dir_okay=False, path_type=Path), required=True,
    help="The drafts file to write (JSONL).",
)


def _write(path: Path, lines: list[str]) -> None:
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")


def _print_dropped(console: Console, dropped: list[Dropped]) -> None:
    for item in dropped[:LISTED]:
        console.print(f"  dropped {clip(item.draft_id)}: {clip(item.reason, 300)}")
    if len(dropped) > LISTED:
        console.print(f"  ... and {len(dropped) - LISTED} more dropped")


def _read_drafts(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        raise ConfigError("drafts file not found", where=str(path))
    drafts: list[dict[str, Any]] = []
    with path.open(encoding="utf-8-sig") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except (json.JSONDecodeError, RecursionError, ValueError):
                raise ConfigError("invalid JSON", where=f"{path}:{number}") from None
            if not isinstance(row, dict) or not isinstance(row.get("case"), dict):
                raise ConfigError('expected {"case": {...}, "provenance": {...}}', where=f"{path}:{number}")
            drafts.append(row)
    return drafts


@click.command("import")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--suite", "suite_path", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="The suite the cases are for (imports are checked against its cases for duplicates).")
@click.option("--map", "maps", multiple=True, required=True, metavar="NAME=PATH",
              help="A case var from a field of each row, like ticket=$.request.text (repeatable).")
@click.option("--expected", metavar="PATH", help="The expected answer from a field, like $.label.")
@click.option("--id", "id_path", metavar="PATH", help="The case id from a field (default: a hash of the case).")
@click.option("--stratify", metavar="PATH", help="Sample proportionally within each value of this field.")
@click.option("--max", "max_cases", type=click.IntRange(min=1), help="At most this many cases (a seeded sample).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the sample.")
@click.option("--skip-bad", is_flag=True, help="Skip unreadable rows and rows without a mapped field (counted).")
@click.option("--redact", "patterns", multiple=True, metavar="REGEX",
              help="Also replace matches of REGEX by [redacted] (repeatable; e-mails and phones always are).")
@click.option("--redact-with", "redact_with", metavar="python:module:function",
              help="Also pass every text through this function (str -> str).")
@click.option("--dedupe/--no-dedupe", "deduplicate", default=True, show_default=True,
              help="Drop exact and near duplicates of the suite's cases and of each other.")
@_threshold_option
@_output_option
def import_command(
    file: Path, suite_path: Path, maps: tuple[str, ...], expected: str | None, id_path: str | None,
    stratify: str | None, max_cases: int | None, seed: int, skip_bad: bool, patterns: tuple[str, ...],
    redact_with: str | None, deduplicate: bool, threshold: float, output: Path,
) -> None:
    """Turn logged requests (FILE: .jsonl or .csv) into draft cases for review, redacted before anything is
    written: e-mail addresses and phone numbers always, plus --redact and --redact-with."""
    console = make_console()
    suite = api.load_suite(suite_path)
    redactors: tuple[Redactor, ...] = default_redactors() + tuple(regex_redactor(p) for p in patterns)
    if redact_with:
        redactors += (python_redactor(redact_with),)
    options = ImportOptions(parse_mapping(maps), expected, id_path, stratify, max_cases, seed, skip_bad, redactors)
    result = import_traffic(file, options)
    drafts = [{"case": draft.case, "provenance": draft.provenance} for draft in result.drafts]
    dropped: list[Dropped] = []
    if deduplicate:
        deduped = dedupe(suite.cases, drafts, threshold=threshold)
        drafts, dropped = deduped.kept, deduped.dropped
    _write(output, [json.dumps(draft, ensure_ascii=False) for draft in drafts])
    redacted = sum(draft["provenance"]["redacted"] for draft in drafts)
    console.print(f"read {result.rows_read} rows of {clip(str(file))}; wrote {len(drafts)} drafts to "
                  f"{clip(str(output))} ({redacted} redactions)")
    for name, (rows, chosen) in result.strata.items():
        if stratify:
            console.print(f"  stratum {clip(name)}: {chosen} of {rows} rows")
    if result.bad_rows:
        console.print(f"skipped {len(result.bad_rows)} bad rows:")
        for bad in result.bad_rows[:LISTED]:
            console.print(f"  {clip(str(bad), 300)}")
        if len(result.bad_rows) > LISTED:
            console.print(f"  ... and {len(result.bad_rows) - LISTED} more")
    if deduplicate:
        console.print(f"dropped {len(dropped)} duplicates (threshold {threshold:g}; --no-dedupe keeps them)")
        _print_dropped(console, dropped)
    console.print("next: review the drafts before they enter the suite")


@click.command("dedupe")
@click.argument("suite_path", metavar="SUITE", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("drafts_path", metavar="DRAFTS", type=click.Path(dir_okay=False, path_type=Path))
@_threshold_option
@_output_option
def dedupe_command(suite_path: Path, drafts_path: Path, threshold: float, output: Path) -> None:
    """Keep the drafts (DRAFTS: JSONL) that are neither exact nor near duplicates of SUITE's cases or of each
    other, and say why each other one was dropped."""
    console = make_console()
    suite = api.load_suite(suite_path)
    drafts = _read_drafts(drafts_path)
    result = dedupe(suite.cases, drafts, threshold=threshold)
    _write(output, [json.dumps(draft, ensure_ascii=False) for draft in result.kept])
    console.print(f"kept {len(result.kept)} of {len(drafts)} drafts in {clip(str(output))}; "
                  f"dropped {len(result.dropped)} (threshold {threshold:g})")
    _print_dropped(console, result.dropped)
