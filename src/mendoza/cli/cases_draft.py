"""``mendoza cases perturb`` and ``mendoza cases draft``: new cases for a suite, written to a drafts file.

Nothing here touches the suite: both commands write JSONL drafts, one ``{"case": {...}, "provenance": {...}}``
per line, for a person to review before anything enters the suite.

- ``perturb`` needs no model: named, seeded perturbations of the cases' text vars (``config/perturb.py``).
- ``draft`` asks a model for new cases in the suite's own schema, from the suite's description and a few of its
  cases; the answer must be a JSON array of mappings with exactly the suite's var names (and ``expected`` when the
  suite's cases have one); an invalid answer is asked again, at most ``MAX_REASKS`` times. Every draft carries the
  model, the prompt's sha256 and the seed. The asking and re-asking is ``providers/json_answers.py::ask_json``
  (shared with ``mendoza rubric draft``), through ``calls.ModelCaller`` like every model call of a run.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from mendoza import api
from mendoza.cli.failures import is_machine_failure
from mendoza.cli.text import plain
from mendoza.config.perturb import PERTURBATIONS, parse_perturbations, perturb_case
from mendoza.core import Case, Suite
from mendoza.providers.app_models import AppModel
from mendoza.providers.json_answers import MAX_REASKS, AnswerInvalid, ask_json, json_array_in

__all__ = [
    "DEFAULT_DRAFT_MODEL",
    "MAX_REASKS",
    "DraftResult",
    "DraftsInvalid",
    "case_row",
    "draft",
    "draft_cases",
    "draft_prompt",
    "parse_drafts",
    "perturb",
    "write_rows",
]

#: The model ``cases draft`` asks unless told: the embedded one (weak, but always there).
DEFAULT_DRAFT_MODEL = "local/gemma-3-270m"
#: How many of the suite's cases the prompt shows as examples.
EXAMPLES = 5

class DraftsInvalid(AnswerInvalid):
    """The model's answer is not a JSON array of cases in the suite's schema (the message says why)."""


def case_row(case: Case) -> dict[str, Any]:
    """A case as a cases-file row: id, vars, and expected, tags, metadata, messages when set."""
    row: dict[str, Any] = {"id": case.id, "vars": case.vars}
    if case.expected is not None:
        row["expected"] = case.expected
    if case.tags:
        row["tags"] = list(case.tags)
    if case.metadata:
        row["metadata"] = case.metadata
    if case.messages is not None:
        row["messages"] = [message.model_dump() for message in case.messages]
    return row


def write_rows(output: Path, rows: Sequence[Mapping[str, Any]]) -> None:
    """Write ``rows`` to ``output`` as JSON Lines; a file that cannot be written is one line (click's FileError)."""
    try:
        with output.open("w", encoding="utf-8") as handle:
            for row in rows:
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
    except OSError as exc:
        if is_machine_failure(exc):
            raise
        raise click.FileError(plain(output, 300), hint=exc.strerror or str(exc)) from None


@click.command()
@click.argument("suite_path", metavar="SUITE", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--with", "with_", required=True, metavar="NAMES",
              help=f"Comma-separated perturbations: {', '.join(PERTURBATIONS)}.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the perturbations.")
@click.option("--vars", "var_names", metavar="NAMES", help="Comma-separated vars to perturb (default: every text var).")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The drafts file to write (JSONL).")
def perturb(suite_path: Path, with_: str, seed: int, var_names: str | None, output: Path) -> None:
    """Perturbed copies of SUITE's cases for a robustness suite, without a model: typos, casing, whitespace,
    punctuation, reordered clauses, distractor sentences. Each is seeded (the same seed gives the same cases);
    a perturbed case is ``<id>~<name>``, tagged ``perturbed`` and ``<name>``, with its expected answer
    unchanged. Written as drafts to review, never into the suite."""
    names = parse_perturbations(with_)
    suite = api.load_suite(suite_path)
    wanted = [part.strip() for part in var_names.split(",") if part.strip()] if var_names else None
    rows: list[dict[str, Any]] = []
    skipped = 0
    for case in suite.cases:
        for name in names:
            perturbed = perturb_case(case, name, seed, wanted)
            if perturbed is None:
                skipped += 1
                continue
            provenance = {"kind": "perturbation", "name": name, "seed": seed, "from": case.id}
            rows.append({"case": case_row(perturbed), "provenance": provenance})
    write_rows(output, rows)
    click.echo(f"wrote {len(rows)} perturbed cases to {plain(output, 300)}")
    if skipped:
        click.echo(f"  {skipped} left out: the perturbation changed no text var of the case")


def _schema(suite: Suite) -> tuple[list[str], bool]:
    """The suite's var names (in the order of their first use) and whether its cases have an expected answer."""
    names: dict[str, None] = {}
    for case in suite.cases:
        names.update(dict.fromkeys(case.vars))
    return list(names), any(case.expected is not None for case in suite.cases)


def _example(case: Case, has_expected: bool) -> dict[str, Any]:
    row = dict(case.vars)
    if has_expected:
        row["expected"] = case.expected
    return row


def draft_prompt(suite: Suite, n: int, about: str | None = None) -> str:
    """The prompt asking for ``n`` new cases: the suite's description, up to ``EXAMPLES`` of its cases as JSON,
    the schema (var names, ``expected`` when the cases have one) and ``about``."""
    names, has_expected = _schema(suite)
    keys = [*names, *(["expected"] if has_expected else [])]
    examples = [_example(case, has_expected) for case in suite.cases[:EXAMPLES]]
    lines = [
        f"You write test cases for an evaluation suite called {suite.name!r}.",
        f"What the suite tests: {suite.description.strip() or '(no description)'}",
        "Here are some of its cases, one JSON object each:",
        *(json.dumps(example, ensure_ascii=False) for example in examples),
        f"Write {n} new, varied cases in exactly the same format: a JSON object per case with exactly the keys "
        f"{', '.join(map(json.dumps, keys))} and no others.",
    ]
    if about:
        lines.append(f"The new cases should be about: {about}")
    lines.append("Answer with only a JSON array of the new cases, nothing before or after it.")
    return "\n".join(lines)


def parse_drafts(text: str, names: Sequence[str], has_expected: bool) -> list[dict[str, Any]]:
    """The model's answer as case mappings, or ``DraftsInvalid`` saying what is wrong: not a JSON array, an item
    that is not a mapping, a missing or an extra key. A fenced block (```json ... ```) is read inside."""
    try:
        data = json_array_in(text)
    except AnswerInvalid as exc:
        raise DraftsInvalid(str(exc)) from None
    required = set(names) | ({"expected"} if has_expected else set())
    for number, item in enumerate(data, start=1):
        if not isinstance(item, dict):
            raise DraftsInvalid(f"case {number} is a {type(item).__name__}, not a JSON object")
        extra = sorted(set(item) - required)
        if extra:
            raise DraftsInvalid(f"case {number} has key(s) the suite's cases do not: {', '.join(extra)}")
        missing = sorted(required - set(item))
        if missing:
            raise DraftsInvalid(f"case {number} lacks the key(s): {', '.join(missing)}")
    return data


@dataclass(slots=True)
class DraftResult:
    """What ``draft_cases`` got: the draft rows (case and provenance), and why each rejected answer was."""

    rows: list[dict[str, Any]]
    prompt_sha256: str
    attempts: int
    rejected: list[str] = field(default_factory=list)


async def draft_cases(
    suite: Suite, client: AppModel, n: int, *, about: str | None = None, seed: int = 0
) -> DraftResult:
    """Ask ``client`` for ``n`` new cases of ``suite`` (see the module); ``AnswerInvalid`` after ``MAX_REASKS``
    re-asks that are still invalid (``ask_json``). Attempt k is asked with seed ``seed + k``."""
    names, has_expected = _schema(suite)
    prompt = draft_prompt(suite, n, about)
    answer = await ask_json(client, prompt, lambda text: parse_drafts(text, names, has_expected), seed=seed,
                            case_id=f"draft:{suite.name}", what="drafts")
    rows = []
    existing = {case.id for case in suite.cases}
    for number, item in enumerate(answer.value[:n], start=1):
        case_id = f"draft-{answer.prompt_sha256[:8]}-{number}"
        while case_id in existing:
            case_id += "x"
        expected = item.pop("expected", None)
        case = Case(id=case_id, vars=item, expected=expected, tags=("drafted",))
        rows.append({"case": case_row(case), "provenance": {"kind": "model", **answer.provenance()}})
    return DraftResult(rows, answer.prompt_sha256, answer.attempts, answer.rejected)


def _client(suite: Suite, model: str) -> AppModel:
    """The model to ask: one of the suite's variants by id (its model and params), else a model id."""
    for variant in suite.variants:
        if variant.id == model:
            return AppModel(variant.model, params=variant.params, base_url=variant.base_url,
                            api_key_env=variant.api_key_env)
    return AppModel(model)


@click.command()
@click.argument("suite_path", metavar="SUITE", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--n", "count", type=click.IntRange(1, 500), default=30, show_default=True,
              help="How many cases to ask for.")
@click.option("--about", help="What the new cases should be about.")
@click.option("--model", default=DEFAULT_DRAFT_MODEL, show_default=True,
              help="The model to ask: a model id, or the id of one of SUITE's variants (its model and params).")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed of the model's calls.")
@click.option("--output", "-o", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The drafts file to write (JSONL).")
def draft(suite_path: Path, count: int, about: str | None, model: str, seed: int, output: Path) -> None:
    """Ask a model for N new cases of SUITE in its own schema (the same var names, an expected answer when its
    cases have one), from its description and up to 5 of its cases. An answer that is not such a JSON array is
    asked again, at most 3 times. Each draft carries the model, the prompt's sha256 and the seed; they are
    written as drafts to review, never into the suite."""
    suite = api.load_suite(suite_path)
    client = _client(suite, model)
    if client.model.startswith("local/"):
        click.echo(
            f"note: {client.model} is the small embedded model and drafts weak cases; pass --model with a "
            "stronger one (e.g. openai/gpt-4o-mini) when one is configured."
        )
    result = asyncio.run(draft_cases(suite, client, count, about=about, seed=seed))
    write_rows(output, result.rows)
    click.echo(
        f"wrote {len(result.rows)} drafted cases to {plain(output, 300)} "
        f"(model {client.model}, prompt sha256 {result.prompt_sha256[:12]}, {result.attempts} ask(s))"
    )
    for reason in result.rejected:
        click.echo(f"  re-asked: {reason}")
