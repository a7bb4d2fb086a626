"""mendoza-shout: a provider that shouts its prompt back, and a grader that checks for shouting.

``shout`` is a stand-in for a model: it answers with the rendered prompt in upper case. With
``params: {whisper: 0.2}`` it whispers (answers in lower case) on about 20% of samples, chosen by each
sample's seed, so a run has something for the report to measure. ``all-caps`` passes an output whose letters
are (mostly) upper case.
"""

from __future__ import annotations

import random
from typing import Any, ClassVar

from pydantic import Field

from mendoza.core import Case, ModelRequest, ModelResponse, Variant
from mendoza.errors import ConfigError
from mendoza.graders.base import Grader, GraderParams, Verdict
from mendoza.providers.base import Provider

__all__ = ["AllCaps", "ShoutProvider"]


def _whisper_rate(params: dict[str, Any]) -> float:
    rate = params.get("whisper", 0.0)
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0.0 <= rate <= 1.0:
        raise ConfigError(f"shout: params.whisper must be a number from 0 to 1, not {rate!r}")
    return float(rate)


class ShoutProvider(Provider):
    """``shout``: the rendered prompt in upper case (in lower case on a ``whisper`` share of samples)."""

    name: ClassVar[str] = "shout"
    description: ClassVar[str] = "shouts the rendered prompt back (params.whisper: share answered in lower case)"
    example: ClassVar[str] = "shout"
    default_concurrency: ClassVar[int] = 100  # no I/O: many samples at once cost nothing

    def __init__(self, variant: Variant) -> None:
        super().__init__(variant)
        self.whisper = _whisper_rate(variant.params)

    @classmethod
    def check(cls, variant: Variant) -> None:
        """Called when the suite loads: a bad ``whisper`` is a one-line error there, not on every sample."""
        _whisper_rate(variant.params)

    async def complete(self, request: ModelRequest) -> ModelResponse:
        """Shout (or, on a ``whisper`` share of seeds, whisper) the prompt."""
        prompt = request.prompt or ""
        whispers = random.Random(request.seed).random() < self.whisper
        text = prompt.lower() if whispers else prompt.upper()
        words = len(text.split())
        return ModelResponse(text=text, tokens_in=words, tokens_out=words, finish_reason="stop")


class AllCaps(Grader):
    """``all-caps``: the share of the output's letters that are upper case is at least ``min_share``."""

    name = "all-caps"
    description = "Output is shouted: at least min_share of its letters are upper case (score = that share)."
    example = "all-caps: {min_share: 0.9, min_letters: 1}"
    shorthand = "min_share"  # `all-caps: 0.9` means `all-caps: {min_share: 0.9}`

    class Params(GraderParams):
        """Parameters of ``all-caps``."""

        min_share: float = Field(default=1.0, ge=0.0, le=1.0)
        min_letters: int = Field(default=1, ge=0)

    def grade(self, output: str, case: Case) -> Verdict:
        """Pass when enough of the letters are upper case; an output with too few letters fails."""
        params = self.params
        assert isinstance(params, AllCaps.Params)
        letters = [char for char in output if char.isalpha() and char.lower() != char.upper()]
        if len(letters) < params.min_letters:
            return Verdict(False, 0.0, f"{len(letters)} letters, fewer than min_letters {params.min_letters}")
        share = sum(char.isupper() for char in letters) / len(letters) if letters else 1.0
        if share >= params.min_share:
            return Verdict(True, share, f"{share:.0%} of {len(letters)} letters are upper case")
        below = f"below min_share {params.min_share:.0%}"
        return Verdict(False, share, f"only {share:.0%} of {len(letters)} letters are upper case, {below}")
