"""Draft a rubric from a run's human labels, and grade the held-out labels with it.

1. **Split.** The run's labelled outputs (``store.labels.labelled_outputs``: human verdict and note) are split
   into a drafting half and a held-out half by case (a case's repeats and variants stay together, so no input
   is both drafted from and checked on), seeded and stratified by verdict: the cases of each verdict (by
   their majority label) are shuffled with ``random.Random(seed)`` and held out until ``round(share * n)``
   of that verdict's labels are, but never fewer than ``MIN_EACH`` labels left in either half. So a run
   needs ``2 * MIN_EACH`` labelled passes and as many failures, in enough cases; with fewer the draft is
   refused in one line saying how many.
2. **Draft.** A model is shown the drafting half (the input as the judge will see it, the output, the person's
   verdict and note; passes and failures alternating, within ``PROMPT_CHARS``) and asked for up to
   ``MAX_CRITERIA`` short criteria that separate the passes from the failures, as a JSON array of strings
   (``providers.json_answers.ask_json``: validated, asked again at most three times; provenance: model,
   prompt sha256, seed). By default the model is the judge of the run's judged grader (the base grader),
   else the embedded model.
3. **The grader.** A ``rubric`` entry named ``drafted-rubric-<8 hex of the criteria>``: the base grader's
   settings (judges, repeats, input...) with the new criteria, or, with no base grader, the drafting model as
   its judge; ``judge`` replaces the judge. It is validated as a suite entry (``parse_grader_entry``), and
   ``grader_yaml`` writes it as a snippet for a suite's ``graders:``, with the provenance as comments.
4. **Held out.** ``soft.held_out.grade_held_out`` grades the held-out half with it in a scratch store (the run
   itself is not touched); the façade (``api.draft_rubric``) measures the grades against the labels with
   ``report.calibrate``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mendoza.config.grader_specs import parse_grader_entry
from mendoza.core import Case, GraderSpec, Run
from mendoza.errors import ConfigError
from mendoza.graders.judge import DEFAULT_JUDGE_MODEL, JudgeSpec, judge_input
from mendoza.graders.kinds import is_judge_type
from mendoza.providers.app_models import AppModel
from mendoza.providers.json_answers import AnswerInvalid, JsonAnswer, ask_json, json_array_in
from mendoza.registry import grader_class
from mendoza.runner.options import GradeOptions
from mendoza.soft.held_out import grade_held_out
from mendoza.soft.regrade import RegradeResult
from mendoza.store import LabelledOutput, Store

__all__ = [
    "DRAFTED_PREFIX",
    "MAX_CRITERIA",
    "MIN_EACH",
    "PROMPT_CHARS",
    "LabelSplit",
    "RubricDraft",
    "draft_prompt",
    "draft_rubric",
    "drafted_entry",
    "grader_yaml",
    "parse_criteria",
    "split_labels",
]

MIN_EACH = 2
"""The fewest labelled passes, and failures, in each half (so a run needs twice as many of each)."""
MAX_CRITERIA = 6
"""The most criteria a drafted rubric may have."""
MAX_CRITERION_CHARS = 300
"""The longest a drafted criterion may be."""
PROMPT_CHARS = 6000
"""The examples shown to the drafting model stop before the prompt passes this many characters (a small
model's context is about 2,000 tokens)."""
SHOWN_CHARS = 400
"""How much of an input, an output or a note an example shows."""
DRAFT_TIMEOUT = 600.0
"""Seconds the drafting call may take: one long prompt, which a small model on a busy CPU reads slowly."""
FORMAT_EXAMPLE = ("<a criterion>", "<another criterion>")
"""The answer's format as the prompt shows it: placeholders, not criteria. With two real criteria as the example
(a refund amount, politeness), the embedded model answered with exactly those two; a copied placeholder is
refused and asked again."""
DRAFTED_PREFIX = "drafted-rubric-"
"""The name of a drafted grader: this and 8 hex digits of its criteria."""


@dataclass(frozen=True)
class LabelSplit:
    """A run's labelled outputs split in two: the ones the model drafts from, and the ones held out to check."""

    drafting: list[LabelledOutput]
    held_out: list[LabelledOutput]

    @staticmethod
    def counts(items: Sequence[LabelledOutput]) -> tuple[int, int]:
        """(passes, failures) among ``items``."""
        passes = sum(item.human for item in items)
        return passes, len(items) - passes


def split_labels(labelled: Sequence[LabelledOutput], holdout: float, seed: int, run_id: str = "RUN") -> LabelSplit:
    """Split labelled outputs into drafting and held-out halves (see the module); the same seed gives the same
    split. ``ConfigError`` when ``holdout`` is not strictly between 0 and 1 or a verdict has too few labels."""
    if not 0.0 < holdout < 1.0:
        raise ConfigError(f"--holdout must be a share strictly between 0 and 1, got {holdout}")
    passes = [item for item in labelled if item.human]
    failures = [item for item in labelled if not item.human]
    needed = 2 * MIN_EACH
    if len(passes) < needed or len(failures) < needed:
        raise ConfigError(
            f"run {run_id} has {len(passes)} labelled passes and {len(failures)} labelled failures with an output; "
            f"drafting a rubric needs at least {needed} of each ({MIN_EACH} to draft from and {MIN_EACH} to check "
            f"on): label more with `mendoza label {run_id}`"
        )
    by_case: dict[str, list[LabelledOutput]] = {}
    for item in sorted(labelled, key=lambda item: item.sample_id):
        by_case.setdefault(item.case_id, []).append(item)
    rng = random.Random(seed)
    drafting: list[LabelledOutput] = []
    held_out: list[LabelledOutput] = []
    for verdict in (True, False):
        # A case's repeats and variants share its input: they go to one half together, else the held-out half
        # would check the rubric on inputs it was drafted from. Cases fall in the stratum of their majority label.
        stratum = sorted(case for case, items in by_case.items() if _mostly_passes(items) == verdict)
        rng.shuffle(stratum)
        labels = sum(len(by_case[case]) for case in stratum)
        wanted = min(max(round(holdout * labels), MIN_EACH), labels - MIN_EACH)
        taken = 0
        for case in stratum:
            half = held_out if taken < wanted else drafting
            half += by_case[case]
            taken += len(by_case[case]) if half is held_out else 0
    split = LabelSplit(sorted(drafting, key=lambda item: item.sample_id),
                       sorted(held_out, key=lambda item: item.sample_id))
    for name, half in (("drafting", split.drafting), ("held-out", split.held_out)):
        half_passes, half_failures = split.counts(half)
        if min(half_passes, half_failures) < MIN_EACH:
            raise ConfigError(
                f"run {run_id}: split by case, the {name} half has {half_passes} labelled passes and "
                f"{half_failures} failures (each half needs {MIN_EACH} of each): label outputs of more cases with "
                f"`mendoza label {run_id}`"
            )
    return split


def _mostly_passes(items: Sequence[LabelledOutput]) -> bool:
    return 2 * sum(item.human for item in items) >= len(items)


def _shown(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SHOWN_CHARS else flat[: SHOWN_CHARS - 3] + "..."


def _alternating(items: Sequence[LabelledOutput]) -> list[LabelledOutput]:
    """Passes and failures in turn (pass first), each in its given order, then the rest of the longer side."""
    passes = [item for item in items if item.human]
    failures = [item for item in items if not item.human]
    mixed: list[LabelledOutput] = []
    for index in range(max(len(passes), len(failures))):
        mixed += [group[index] for group in (passes, failures) if index < len(group)]
    return mixed


def draft_prompt(
    drafting: Sequence[LabelledOutput],
    cases: Mapping[str, Case],
    *,
    description: str = "",
    current: Sequence[str] = (),
    input_template: str | None = None,
) -> str:
    """The prompt asking for criteria: what the feature does, the criteria in use (``current``), then the
    labelled examples (passes and failures in turn, while they fit in ``PROMPT_CHARS``; at least one of each)
    and the answer's format."""
    head = [
        "You write the rubric of an evaluation: criteria a judge checks, one output at a time, to decide whether "
        "an output of an AI feature is good.",
    ]
    if description.strip():
        head.append(f"What the feature does: {_shown(description)}")
    if current:
        head.append("The criteria in use now (write better ones):")
        head += [f"- {criterion}" for criterion in current]
    head.append("A person labelled these outputs PASS or FAIL, some with a note saying why.")
    tail = [
        f"Write 1 to {MAX_CRITERIA} criteria that the PASS outputs meet and the FAIL outputs do not. Each is one "
        "short sentence saying what a good output does, that a judge can check from the input and the output "
        "alone, without naming any example.",
        f"Answer with only a JSON array of strings, like {json.dumps(list(FORMAT_EXAMPLE))}, with your "
        "criteria in place of the placeholders.",
    ]
    examples: list[str] = []
    used = len("\n".join(head + tail))
    seen: set[bool] = set()
    for number, item in enumerate(_alternating(drafting), start=1):
        case = cases.get(item.case_id)
        shown_input = judge_input(case, input_template) if case is not None else ""
        lines = [f"Example {number}: {'PASS' if item.human else 'FAIL'}", f"Input: {_shown(shown_input)}",
                 f"Output: {_shown(item.output)}"]
        if item.note.strip():
            lines.append(f"Note: {_shown(item.note)}")
        block = "\n".join(lines)
        if used + len(block) + 2 > PROMPT_CHARS and item.human in seen:
            continue
        examples.append(block)
        used += len(block) + 2
        seen.add(item.human)
    return "\n".join(head) + "\n\n" + "\n\n".join(examples) + "\n\n" + "\n".join(tail)


def parse_criteria(text: str) -> list[str]:
    """The criteria in a model's answer, or ``AnswerInvalid`` saying why not: no JSON array of strings, an
    empty, too long or templated criterion (``{{``), a copied placeholder of ``FORMAT_EXAMPLE``, more than
    ``MAX_CRITERIA``. Repeats are dropped."""
    data = json_array_in(text)
    criteria: list[str] = []
    for number, item in enumerate(data, start=1):
        if not isinstance(item, str):
            raise AnswerInvalid(f"criterion {number} is a {type(item).__name__}, not a string")
        criterion = " ".join(item.split())
        if not criterion:
            raise AnswerInvalid(f"criterion {number} is empty")
        if len(criterion) > MAX_CRITERION_CHARS:
            raise AnswerInvalid(f"criterion {number} is longer than {MAX_CRITERION_CHARS} characters")
        if criterion.lower() in FORMAT_EXAMPLE:
            raise AnswerInvalid(f"criterion {number} is a placeholder of the format, not a criterion")
        if "{{" in criterion or "{%" in criterion:
            raise AnswerInvalid(f"criterion {number} holds template braces ({{{{ or {{%)")
        if criterion.lower() not in (known.lower() for known in criteria):
            criteria.append(criterion)
    if len(criteria) > MAX_CRITERIA:
        raise AnswerInvalid(f"the answer has {len(criteria)} criteria; at most {MAX_CRITERIA} are wanted")
    return criteria


def _base_grader(specs: Sequence[GraderSpec], name: str | None, run_id: str) -> GraderSpec | None:
    """The run's grader the draft builds on: the one named (it must be judged), else its first judged one."""
    if name is None:
        return next((spec for spec in specs if is_judge_type(spec.type)), None)
    found = next((spec for spec in specs if spec.name == name), None)
    if found is None:
        raise ConfigError(
            f"no grader '{name}' in run {run_id} (graders: {', '.join(spec.name for spec in specs) or 'none'})"
        )
    if found.type != "rubric":
        raise ConfigError(f"grader '{name}' is a {found.type} grader; a drafted rubric builds on a rubric grader")
    return found


def _first_judge(base: GraderSpec | None) -> JudgeSpec | None:
    if base is None:
        return None
    params = grader_class(base.type).parse_params(base.params)
    judge_specs = getattr(params, "judge_specs", None)
    found = judge_specs() if callable(judge_specs) else []
    return found[0] if found and isinstance(found[0], JudgeSpec) else None


def _current_criteria(base: GraderSpec | None) -> list[str]:
    criteria = base.params.get("criteria", []) if base is not None else []
    items = criteria if isinstance(criteria, list) else [criteria]
    return [str(item.get("description", item)) if isinstance(item, Mapping) else str(item) for item in items]


def drafted_entry(criteria: Sequence[str], base: GraderSpec | None, judge: str | None, model: str) -> dict[str, Any]:
    """The suite entry of the drafted grader (see the module): named by its criteria, built on ``base``'s
    settings (without its criteria and threshold) or judged by ``model``; ``judge`` replaces the judge."""
    digest = hashlib.sha256(json.dumps(list(criteria)).encode("utf-8")).hexdigest()[:8]
    params: dict[str, Any] = {}
    if base is not None and base.type == "rubric":
        params = {key: value for key, value in base.params.items() if key not in ("criteria", "threshold")}
    if judge is not None:
        params = {key: value for key, value in params.items() if key not in ("judge", "judges")}
        params["judge"] = judge
    elif base is None:
        params["judge"] = model
    return {"type": "rubric", "name": f"{DRAFTED_PREFIX}{digest}", "criteria": list(criteria), **params}


def grader_yaml(entry: Mapping[str, Any], comments: Sequence[str]) -> str:
    """The entry as a YAML list item to paste under a suite's ``graders:``, after ``comments`` (``# `` lines)."""
    body = yaml.safe_dump([dict(entry)], sort_keys=False, allow_unicode=True, width=100)
    return "".join(f"# {line}\n" for line in comments) + body


@dataclass(frozen=True)
class RubricDraft:
    """What ``draft_rubric`` did: the split, the model's answer (criteria and provenance), the drafted
    grader (entry and spec), the grader it built on, and the held-out grades in ``held_out_db``."""

    run: Run
    split: LabelSplit
    answer: JsonAnswer[list[str]]
    entry: dict[str, Any]
    spec: GraderSpec
    base: GraderSpec | None
    graded: RegradeResult
    held_out_db: Path

    @property
    def embedded(self) -> bool:
        """Whether the drafting model was an embedded one (``local/...``: small, and weak at this)."""
        return self.answer.model.startswith("local/")


async def _ask(client: AppModel, prompt: str, seed: int, run_id: str) -> JsonAnswer[list[str]]:
    try:
        return await ask_json(client, prompt, parse_criteria, seed=seed, case_id=f"rubric-draft:{run_id}",
                              what="criteria")
    finally:
        await client.caller.aclose()


def draft_rubric(
    store: Store,
    run_ref: str,
    held_out_db: Path,
    *,
    grader: str | None = None,
    model: str | None = None,
    judge: str | None = None,
    holdout: float = 0.5,
    seed: int = 0,
    options: GradeOptions | None = None,
) -> RubricDraft:
    """Draft a rubric from run ``run_ref``'s labels and grade the held-out ones with it into the new SQLite
    file ``held_out_db`` (see the module). ``grader``: the run's rubric grader to build on (default: its first
    judged one); ``model``: the drafting model (default: that grader's first judge, else the embedded model);
    ``judge``: the drafted rubric's judge (default: the base grader's judges, else the drafting model)."""
    if held_out_db.exists():
        raise ConfigError(f"{held_out_db} already exists: give a new file for the held-out grades")
    run = store.runs.get(run_ref)
    if run.status in ("running", "interrupted"):
        raise ConfigError(f"run {run.id} is {run.status}: finish it first (mendoza run --resume {run.id})")
    base = _base_grader(store.grades.grader_set(run.id), grader, run.id)
    split = split_labels(store.labels.labelled_outputs(run.id), holdout, seed, run.id)
    suite = store.runs.suite(run.id)
    cases = {case.id: case for case in suite.cases}
    template = base.params.get("input") if base is not None else None
    prompt = draft_prompt(split.drafting, cases, description=suite.description, current=_current_criteria(base),
                          input_template=template if isinstance(template, str) else None)
    first = _first_judge(base)
    if model is not None or first is None:
        client = AppModel(model or DEFAULT_JUDGE_MODEL, timeout=DRAFT_TIMEOUT)
    else:
        client = AppModel(first.model, base_url=first.base_url, api_key_env=first.api_key_env, timeout=DRAFT_TIMEOUT)
    answer = asyncio.run(_ask(client, prompt, seed, run.id))
    entry = drafted_entry(answer.value, base, judge, client.model)
    spec = parse_grader_entry(entry, 0)
    graded = grade_held_out(store, run, split.held_out, spec, held_out_db, options)
    return RubricDraft(run, split, answer, entry, spec, base, graded, held_out_db)
