"""``pairwise``: a judge says which of two variants' outputs for the same case is better.

A ``PairwiseGrader``, not a per-sample one: the run leaves it out, and ``mendoza rank RUN`` (or ``mendoza
regrade``) compares every pair of variants on every (case, repeat) both have an output for. Each pair is shown
to the judge in both orders, to cancel position bias: a variant wins only when it is preferred in both orders;
anything else (the judge preferring whichever came first, or a tie in either order) is a tie, as MT-Bench
counts it. An answer that cannot be read is asked again (``max_reasks``), then recorded as an error, never as
a preference.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from pathlib import Path
from typing import Any

import jinja2
from pydantic import Field, field_validator, model_validator

from mendoza.calls import ModelCache
from mendoza.core import Case
from mendoza.errors import GraderError
from mendoza.graders.base import GraderParams, PairOutcome, PairwiseGrader, Preference
from mendoza.graders.judge import (
    DEFAULT_JUDGE_MODEL,
    Judge,
    JudgeSpec,
    inline_prompt_file,
    judge_input,
    judge_seed,
    unread_file_error,
)
from mendoza.graders.judge_parsing import Order, parse_preference
from mendoza.graders.judge_prompts import PAIRWISE_COMPLETION, PAIRWISE_INSTRUCTION, REASK_SUFFIX, compile_template
from mendoza.graders.text import shorten

__all__ = ["PairOutcome", "Pairwise", "Preference", "combine_orders"]

def combine_orders(first_order: Preference, second_order: Preference) -> Preference:
    """The verdict of a pair asked in both orders: a variant wins only when preferred in both; otherwise
    (an inconsistent pair, or a tie in either order) it is a tie."""
    if first_order == second_order and first_order != "tie":
        return first_order
    return "tie"


def _as_variant(order: Order, a_first: bool) -> Preference:
    """An answer about the outputs as shown (first/second) as one about the variants (a/b)."""
    if order == "tie":
        return "tie"
    first_is_a = order == "first"
    return "a" if first_is_a == a_first else "b"


class Pairwise(PairwiseGrader):
    """A judge's preference between two variants' outputs, asked in both orders (see the module)."""

    name = "pairwise"
    description = "A judge prefers one of two variants' outputs per case, both orders (used by `mendoza rank`)."
    shorthand = "question"
    needs_model = True
    example = 'pairwise: "Which reply helps the customer more?"'

    class Params(GraderParams):
        """Parameters of ``pairwise``."""

        question: str = "Which output better answers the input?"
        judge: JudgeSpec | None = None
        judge_prompt: str | None = None
        judge_prompt_file: str | None = None
        input: str | None = None
        variants: list[str] | None = Field(default=None, min_length=2)
        max_reasks: int = Field(default=1, ge=0, le=5)

        @field_validator("judge", mode="before")
        @classmethod
        def _judge_shorthand(cls, value: Any) -> Any:
            return {"model": value} if isinstance(value, str) else value

        @model_validator(mode="after")
        def _consistent(self) -> Pairwise.Params:
            if self.judge_prompt_file is not None:
                raise ValueError(unread_file_error("judge_prompt_file", "judge_prompt"))
            for text in (self.judge_prompt, self.judge.prompt if self.judge else None):
                if text is not None:
                    try:
                        compile_template(text)
                    except jinja2.TemplateSyntaxError as exc:
                        raise ValueError(f"judge prompt: template syntax error: {exc.message}") from None
            return self

    @classmethod
    def resolve_files(cls, params: dict[str, Any], base_dir: Path) -> dict[str, Any]:
        """Read ``judge_prompt_file`` and the judge's ``prompt_file`` (relative to the suite) into the params."""
        params = inline_prompt_file(params, "judge_prompt_file", "judge_prompt", base_dir)
        judge = params.get("judge")
        if isinstance(judge, dict):
            params = {**params, "judge": inline_prompt_file(judge, "prompt_file", "prompt", base_dir)}
        return params

    def __init__(self, params: GraderParams) -> None:
        super().__init__(params)
        assert isinstance(params, Pairwise.Params)
        self.options = params
        self.judge = Judge(params.judge or JudgeSpec(model=DEFAULT_JUDGE_MODEL))

    def use_cache(self, cache: ModelCache | None) -> None:
        """Cache the judge's calls."""
        self.judge.use_cache(cache)

    async def aclose(self) -> None:
        """Release the judge."""
        await self.judge.aclose()

    def _template(self) -> str:
        if self.judge.spec.prompt is not None:
            return self.judge.spec.prompt
        if self.options.judge_prompt is not None:
            return self.options.judge_prompt
        return PAIRWISE_COMPLETION if self.judge.style == "completion" else PAIRWISE_INSTRUCTION

    def compare(self, case: Case, output_a: str, output_b: str, repeat: int = 0) -> Awaitable[PairOutcome]:
        """Ask the judge which of A's and B's outputs is better, in both orders; ``GraderError`` when an
        answer cannot be read after the re-asks (or the judge fails)."""
        return self._compare(case, output_a, output_b, repeat)

    async def _compare(self, case: Case, output_a: str, output_b: str, repeat: int) -> PairOutcome:
        context = {
            "input": judge_input(case, self.options.input),
            "question": self.options.question,
            "expected": case.expected,
            "vars": dict(case.vars),
            "case_id": case.id,
        }
        template = self._template()
        try:
            prompts = [
                compile_template(template).render({**context, "first": output_a, "second": output_b}),
                compile_template(template).render({**context, "first": output_b, "second": output_a}),
            ]
        except jinja2.TemplateError as exc:
            raise GraderError(f"judge '{self.judge.label}' prompt: {exc}") from None
        seeds = [judge_seed(case.id, output_a, output_b, repeat, order) for order in ("ab", "ba")]
        (order_ab, raw_ab, asks_ab), (order_ba, raw_ba, asks_ba) = await asyncio.gather(
            self._ask(prompts[0], seeds[0], repeat), self._ask(prompts[1], seeds[1], repeat)
        )
        for order, raw, asks in ((order_ab, raw_ab, asks_ab), (order_ba, raw_ba, asks_ba)):
            if order is None:
                raise GraderError(
                    f"judge '{self.judge.label}' gave no readable preference after {asks} ask(s): "
                    f"{shorten(raw.strip(), 80)!r}"
                )
        assert order_ab is not None and order_ba is not None
        first, second = _as_variant(order_ab, a_first=True), _as_variant(order_ba, a_first=False)
        winner = combine_orders(first, second)
        consistent = first == second
        explanation = (
            f"{'A' if winner == 'a' else 'B' if winner == 'b' else 'tie'}: A shown first -> {first}, "
            f"B shown first -> {second}{'' if consistent else ' (inconsistent: a tie)'}"
        )
        detail = {
            "kind": "pairwise",
            "judge": self.judge.label,
            "consistent": consistent,
            "answers": [shorten(raw_ab.strip(), 200), shorten(raw_ba.strip(), 200)],
            "asks": [asks_ab, asks_ba],
        }
        return PairOutcome(winner, first, second, explanation, detail)

    async def _ask(self, prompt: str, seed: int, repeat: int) -> tuple[Order | None, str, int]:
        text = ""
        for attempt in range(self.options.max_reasks + 1):
            asked = prompt if attempt == 0 or self.judge.style == "completion" else prompt + REASK_SUFFIX
            text = await self.judge.ask(asked, seed, repeat, attempt)
            order = parse_preference(text)
            if order is not None:
                return order, text, attempt + 1
        return None, text, self.options.max_reasks + 1
