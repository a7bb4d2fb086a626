"""``rubric``: a judge model grades an output against criteria, performance-review style.

Each criterion is pass/fail, or a 1..N scale that passes from ``pass_at``; criteria carry weights. The rubric's
score is the weighted mean of the criteria's scores (pass 1, fail 0, a scale's ``(s-1)/(N-1)``); it passes when
the score reaches ``threshold``, or, with no threshold, when every criterion passes.

Judges: one (``judge``, default the embedded ``local/gemma-3-270m``) or several (``judges``: different models
or prompts), each asked ``judge_repeats`` times with different seeds. Votes of all judges and repeats on a
criterion are pooled: ``combine: majority`` takes the majority (a binary criterion passes on a strict
majority; a scale takes the median), ``combine: mean`` the mean. An answer that cannot be read is asked again
(``max_reasks``); if it still cannot, the grade is an *error* (``on_unparseable: drop`` instead leaves that vote
out and says so), never a silent pass or fail. Votes, reasons, the agreement among votes and each
(judge, repeat)'s own verdict are kept in the grade's ``detail`` for the judge report and the review queue.
"""

from __future__ import annotations

import asyncio
import re
import statistics
from collections.abc import Awaitable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import jinja2
from pydantic import Field, field_validator, model_validator

from mendoza.calls import ModelCache
from mendoza.core import Case
from mendoza.errors import GraderError
from mendoza.graders.base import GraderParams, Verdict, render_param
from mendoza.graders.judge import (
    DEFAULT_JUDGE_MODEL,
    Judge,
    JudgeSpec,
    inline_prompt_file,
    judge_input,
    judge_seed,
    judge_spec,
    unread_file_error,
)
from mendoza.graders.judge_parsing import Vote, parse_vote, parse_votes
from mendoza.graders.judge_prompts import (
    REASK_SUFFIX,
    RUBRIC_ALL_CRITERIA,
    RUBRIC_COMPLETION,
    RUBRIC_INSTRUCTION,
    compile_template,
)
from mendoza.graders.judged import JudgeGrader
from mendoza.graders.text import shorten

__all__ = ["Criterion", "Rubric"]

_EPSILON = 1e-9


def _slug(text: str) -> str:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return "_".join(words[:5]) or "criterion"


def _check_template(text: str | None, what: str) -> None:
    if text is None:
        return
    try:
        compile_template(text)
    except jinja2.TemplateSyntaxError as exc:
        raise ValueError(f"{what}: template syntax error on its line {exc.lineno}: {exc.message}") from None


class Criterion(GraderParams):
    """One criterion of a rubric: pass/fail, or a 1..``scale`` score that passes from ``pass_at``."""

    name: str
    description: str
    scale: int | None = Field(default=None, ge=2, le=10)
    pass_at: int | None = Field(default=None, ge=1)
    weight: float = Field(default=1.0, gt=0)

    @model_validator(mode="after")
    def _pass_point(self) -> Criterion:
        if self.scale is None and self.pass_at is not None:
            raise ValueError(f"criterion '{self.name}': pass_at needs a scale")
        if self.scale is not None and self.pass_at is not None and self.pass_at > self.scale:
            raise ValueError(f"criterion '{self.name}': pass_at {self.pass_at} is above its scale 1-{self.scale}")
        return self

    @property
    def pass_point(self) -> float:
        """The normalised score from which the criterion passes (for pass/fail: above 0.5, a strict majority)."""
        if self.scale is None:
            return 0.5
        pass_at = self.pass_at if self.pass_at is not None else (self.scale + 2) // 2
        return (pass_at - 1) / (self.scale - 1)

    def passes(self, score: float) -> bool:
        """Whether a (normalised) score passes this criterion."""
        if self.scale is None:
            return score > 0.5
        return score >= self.pass_point - _EPSILON


@dataclass(frozen=True, slots=True)
class _Answer:
    """What one judge said on one criterion in one repeat: the vote (None: unreadable), its text, how many
    times it was asked."""

    vote: Vote | None
    raw: str
    asks: int
    rejected: str = ""


class Rubric(JudgeGrader):
    """A judge grades the output against a rubric of criteria (see the module)."""

    name = "rubric"
    description = "A judge model grades against criteria (pass/fail or 1-N scales, weighted); repeats, several judges."
    shorthand = "criteria"
    needs_model = True
    example = 'rubric: ["The reply is polite", "The reply answers the question"]'

    class Params(GraderParams):
        """Parameters of ``rubric``; a criterion may be written as a string (its description) or
        ``{name: description}``."""

        criteria: list[Criterion] = Field(min_length=1)
        threshold: float | None = Field(default=None, ge=0.0, le=1.0)
        judge: JudgeSpec | None = None
        judges: list[JudgeSpec] | None = Field(default=None, min_length=1)
        judge_repeats: int = Field(default=1, ge=1, le=25)
        combine: Literal["majority", "mean"] = "majority"
        judge_prompt: str | None = None
        judge_prompt_file: str | None = None
        judge_call: Literal["per_criterion", "all_criteria"] = "per_criterion"
        input: str | None = None
        max_reasks: int = Field(default=1, ge=0, le=5)
        on_unparseable: Literal["error", "drop"] = "error"

        @field_validator("criteria", mode="before")
        @classmethod
        def _criteria_shorthand(cls, value: Any) -> Any:
            if isinstance(value, str | Mapping):
                value = [value]
            if not isinstance(value, list):
                return value
            items: list[Any] = []
            for item in value:
                if isinstance(item, str):
                    items.append({"name": _slug(item), "description": item})
                elif isinstance(item, Mapping) and len(item) == 1 and "description" not in item and "name" not in item:
                    name, description = next(iter(item.items()))
                    items.append({"name": str(name), "description": description})
                else:
                    items.append(item)
            return items

        @field_validator("judge", mode="before")
        @classmethod
        def _judge_shorthand(cls, value: Any) -> Any:
            return {"model": value} if isinstance(value, str) else value

        @field_validator("judges", mode="before")
        @classmethod
        def _judges_shorthand(cls, value: Any) -> Any:
            if isinstance(value, list):
                return [{"model": item} if isinstance(item, str) else item for item in value]
            return value

        @model_validator(mode="after")
        def _consistent(self) -> Rubric.Params:
            names = [criterion.name for criterion in self.criteria]
            duplicate = next((name for name in names if names.count(name) > 1), None)
            if duplicate is not None:
                raise ValueError(f"two criteria are named '{duplicate}'; give them different names")
            if self.judge is not None and self.judges is not None:
                raise ValueError("set 'judge' or 'judges', not both")
            if self.judge_prompt_file is not None:
                raise ValueError(unread_file_error("judge_prompt_file", "judge_prompt"))
            _check_template(self.judge_prompt, "judge_prompt")
            for spec in self.judges or []:
                _check_template(spec.prompt, f"judge '{spec.label}' prompt")
            return self

        def judge_specs(self) -> list[JudgeSpec]:
            """The judges, in order (the default judge when none is named)."""
            if self.judges is not None:
                return list(self.judges)
            return [self.judge or JudgeSpec(model=DEFAULT_JUDGE_MODEL)]

    @classmethod
    def resolve_files(cls, params: dict[str, Any], base_dir: Path) -> dict[str, Any]:
        """Read ``judge_prompt_file`` and each judge's ``prompt_file`` (relative to the suite) into the params."""
        params = inline_prompt_file(params, "judge_prompt_file", "judge_prompt", base_dir)
        for key in ("judge", "judges"):
            value = params.get(key)
            if isinstance(value, Mapping):
                params = {**params, key: inline_prompt_file(dict(value), "prompt_file", "prompt", base_dir)}
            elif isinstance(value, list):
                judges = [
                    inline_prompt_file(dict(item), "prompt_file", "prompt", base_dir)
                    if isinstance(item, Mapping) else item
                    for item in value
                ]
                params = {**params, key: judges}
        return params

    def __init__(self, params: GraderParams) -> None:
        super().__init__(params)
        assert isinstance(params, Rubric.Params)
        self.options = params
        self.judges = [Judge(judge_spec(spec)) for spec in params.judge_specs()]

    def use_cache(self, cache: ModelCache | None) -> None:
        """Cache every judge's calls."""
        for judge in self.judges:
            judge.use_cache(cache)

    async def aclose(self) -> None:
        """Release the judges."""
        for judge in self.judges:
            await judge.aclose()

    def grade(self, output: str, case: Case) -> Awaitable[Verdict]:
        """Ask the judges (concurrently, within each judge's limit) and combine their votes."""
        return self._grade(output, case)

    def _template(self, judge: Judge) -> str:
        if judge.spec.prompt is not None:
            return judge.spec.prompt
        if self.options.judge_prompt is not None:
            return self.options.judge_prompt
        if self.options.judge_call == "all_criteria":
            return RUBRIC_ALL_CRITERIA
        return RUBRIC_COMPLETION if judge.style == "completion" else RUBRIC_INSTRUCTION

    def _criteria(self, case: Case) -> list[tuple[Criterion, dict[str, Any]]]:
        rendered = []
        for criterion in self.options.criteria:
            description = str(render_param(criterion.description, case))
            pass_at = None if criterion.scale is None else round(criterion.pass_point * (criterion.scale - 1) + 1)
            view = {
                "name": criterion.name,
                "description": description,
                "scale": criterion.scale,
                "pass_at": pass_at,
                "weight": criterion.weight,
            }
            rendered.append((criterion, view))
        return rendered

    async def _grade(self, output: str, case: Case) -> Verdict:
        criteria = self._criteria(case)
        context: dict[str, Any] = {
            "output": output,
            "input": judge_input(case, self.options.input),
            "expected": case.expected,
            "vars": dict(case.vars),
            "case_id": case.id,
            "criteria": [view for _, view in criteria],
        }
        keys: list[tuple[int, int, str | None]] = []
        jobs: list[Awaitable[Any]] = []
        for index, judge in enumerate(self.judges):
            template = self._template(judge)
            for repeat in range(self.options.judge_repeats):
                if self.options.judge_call == "all_criteria":
                    prompt = _render(template, context, judge)
                    seed = judge_seed(case.id, output, judge.label, repeat)
                    keys.append((index, repeat, None))
                    jobs.append(self._ask(judge, prompt, seed, repeat, None))
                    continue
                for criterion, view in criteria:
                    prompt = _render(template, {**context, "criterion": view}, judge)
                    seed = judge_seed(case.id, output, judge.label, repeat, criterion.name)
                    keys.append((index, repeat, criterion.name))
                    jobs.append(self._ask(judge, prompt, seed, repeat, criterion))
        results = await asyncio.gather(*jobs)
        answers: dict[tuple[int, int, str], _Answer] = {}
        for (index, repeat, name), result in zip(keys, results, strict=True):
            if name is not None:
                answers[(index, repeat, name)] = result
                continue
            votes, raw, asks, rejected = result
            for criterion, _ in criteria:
                vote = None if votes is None else votes.get(criterion.name)
                answers[(index, repeat, criterion.name)] = _Answer(vote, raw, asks, rejected)
        return self._combine(answers, [criterion for criterion, _ in criteria])

    async def _ask(self, judge: Judge, prompt: str, seed: int, repeat: int, criterion: Criterion | None) -> Any:
        """One judge answer, asked again (up to ``max_reasks`` times) while it cannot be read."""
        text = rejected = ""
        for attempt in range(self.options.max_reasks + 1):
            asked = prompt if attempt == 0 or judge.style == "completion" else prompt + REASK_SUFFIX
            text = await judge.ask(asked, seed, repeat, attempt)
            if criterion is not None:
                vote = parse_vote(text, criterion.scale)
                if vote is not None:
                    return _Answer(vote, text, attempt + 1, rejected)
            else:
                votes = parse_votes(text, [(item.name, item.scale) for item in self.options.criteria])
                if votes is not None:
                    return votes, text, attempt + 1, rejected
            rejected = rejected or text
        if criterion is not None:
            return _Answer(None, text, self.options.max_reasks + 1, rejected)
        return None, text, self.options.max_reasks + 1, rejected

    def _combine(self, answers: dict[tuple[int, int, str], _Answer], criteria: list[Criterion]) -> Verdict:
        options = self.options
        unreadable = [(key, answer) for key, answer in answers.items() if answer.vote is None]
        if unreadable and options.on_unparseable == "error":
            (index, _, name), answer = unreadable[0]
            raise GraderError(
                f"judge '{self.judges[index].label}' gave no readable verdict on '{name}' after {answer.asks} "
                f"ask(s): {shorten(answer.raw.strip(), 80)!r}"
            )
        rows: list[dict[str, Any]] = []
        for criterion in criteria:
            votes = [a.vote for (_, _, name), a in answers.items() if name == criterion.name and a.vote is not None]
            if not votes:
                raise GraderError(f"no judge gave a readable verdict on '{criterion.name}'")
            rows.append(self._criterion_row(criterion, votes, answers))
        total_weight = sum(criterion.weight for criterion in criteria)
        score = sum(row["score"] * criterion.weight for row, criterion in zip(rows, criteria, strict=True))
        score /= total_weight
        if options.threshold is not None:
            passed = score >= options.threshold - _EPSILON
        else:
            passed = all(row["passed"] for row in rows)
        runs = self._runs(answers, criteria)
        # The shape ``JudgeDetail`` reads (see ``mendoza.graders.judged``); "kind" stays for old readers of the
        # stored JSON, mendoza itself finds judged verdicts by the grader's class.
        detail = {
            "kind": "rubric",
            "judges": [judge.label for judge in self.judges],
            "judge_repeats": options.judge_repeats,
            "combine": options.combine,
            "threshold": options.threshold,
            "score": score,
            "passed": passed,
            "agreement": min(row["agreement"] for row in rows),
            "unreadable": len(unreadable),
            "asks": sum(answer.asks for answer in answers.values()),
            "criteria": rows,
            "runs": runs,
        }
        return Verdict(passed, score, self._explanation(passed, score, rows, len(unreadable)), detail)

    def _criterion_row(
        self, criterion: Criterion, votes: list[Vote], answers: dict[tuple[int, int, str], _Answer]
    ) -> dict[str, Any]:
        scores = [vote.score for vote in votes]
        if criterion.scale is None:
            share = sum(scores) / len(scores)
            value = (1.0 if share > 0.5 else 0.0) if self.options.combine == "majority" else share
        else:
            value = statistics.median(scores) if self.options.combine == "majority" else sum(scores) / len(scores)
        passed = criterion.passes(value)
        agreeing = [vote for vote in votes if criterion.passes(vote.score) == passed]
        reason = next((vote.reason for vote in agreeing if vote.reason), "")
        return {
            "name": criterion.name,
            "scale": criterion.scale,
            "weight": criterion.weight,
            "score": value,
            "pass_point": criterion.pass_point,
            "passed": passed,
            "agreement": len(agreeing) / len(votes),
            "votes_for": len(agreeing),
            "votes": [
                {
                    "judge": index,
                    "repeat": repeat,
                    "score": None if answer.vote is None else answer.vote.score,
                    "label": None if answer.vote is None else answer.vote.label,
                    "reason": "" if answer.vote is None else shorten(answer.vote.reason, 300),
                    "asks": answer.asks,
                    **({"raw": shorten(answer.raw, 200)} if answer.vote is None else {}),
                    **({"rejected": shorten(answer.rejected, 200)} if answer.rejected else {}),
                }
                for (index, repeat, name), answer in answers.items()
                if name == criterion.name
            ],
            "reason": shorten(reason, 300),
        }

    def _runs(self, answers: dict[tuple[int, int, str], _Answer], criteria: list[Criterion]) -> list[dict[str, Any]]:
        """Each (judge, repeat)'s own verdict on the whole rubric (None when one of its answers was unreadable)."""
        runs: list[dict[str, Any]] = []
        total_weight = sum(criterion.weight for criterion in criteria)
        for index in range(len(self.judges)):
            for repeat in range(self.options.judge_repeats):
                votes = [answers[(index, repeat, criterion.name)].vote for criterion in criteria]
                if any(vote is None for vote in votes):
                    runs.append({"judge": index, "repeat": repeat, "score": None, "passed": None})
                    continue
                scores = [vote.score for vote in votes if vote is not None]
                score = sum(s * c.weight for s, c in zip(scores, criteria, strict=True)) / total_weight
                if self.options.threshold is not None:
                    passed = score >= self.options.threshold - _EPSILON
                else:
                    passed = all(c.passes(s) for s, c in zip(scores, criteria, strict=True))
                runs.append({"judge": index, "repeat": repeat, "score": score, "passed": passed})
        return runs

    def _explanation(self, passed: bool, score: float, rows: list[dict[str, Any]], unreadable: int) -> str:
        parts = []
        for row in rows:
            verdict = "PASS" if row["passed"] else "FAIL"
            if row["scale"] is not None:
                verdict = f"{1 + row['score'] * (row['scale'] - 1):.3g}/{row['scale']} {verdict}"
            votes = len(row["votes"]) - sum(1 for vote in row["votes"] if vote["score"] is None)
            tally = f" ({row['votes_for']}/{votes} votes)" if votes > 1 else ""
            reason = f": {shorten(row['reason'], 100)}" if row["reason"] else ""
            parts.append(f"{row['name']} {verdict}{tally}{reason}")
        passing = sum(1 for row in rows if row["passed"])
        head = f"{'pass' if passed else 'fail'}: {passing}/{len(rows)} criteria (score {score:.2f})"
        judges = ", ".join(judge.label for judge in self.judges)
        repeats = f" x{self.options.judge_repeats}" if self.options.judge_repeats > 1 else ""
        dropped = f"; {unreadable} unreadable answer(s) left out" if unreadable else ""
        return f"{head}; " + "; ".join(parts) + f" [judge: {judges}{repeats}{dropped}]"


def _render(template: str, context: dict[str, Any], judge: Judge) -> str:
    try:
        return compile_template(template).render(context)
    except jinja2.TemplateError as exc:
        raise GraderError(f"judge '{judge.label}' prompt: {exc}") from None
