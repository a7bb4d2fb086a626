"""The one small interface every provider implements.

It lives below ``providers/`` and ``graders/`` so that both may name it: a judge (a grader) holds a
``Provider`` it found through the registry, typed, without importing any provider module.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, Literal

from mendoza.core import ModelRequest, ModelResponse, Variant

__all__ = ["JudgeStyle", "Provider"]

JudgeStyle = Literal["completion", "instruction"]
"""How a judge is prompted: ``completion`` (a base model continues a few-shot text ending in ``Verdict:``) or
``instruction`` (a chat model follows instructions and answers in JSON)."""


class Provider(ABC):
    """Where outputs come from. One instance serves one variant for the length of a run.

    ``complete`` raises ``ProviderError`` (``retryable=True`` for rate limits, timeouts and server errors) and
    never anything else on purpose; the runner handles timeouts, retries and concurrency around it.
    """

    #: The registry name, the part of ``model`` before the first ``/`` (``local``, ``openai``...).
    name: ClassVar[str]
    #: One line for ``mendoza providers``.
    description: ClassVar[str]
    #: How many calls may be in flight at once unless the variant says otherwise.
    default_concurrency: ClassVar[int] = 8
    #: Whether outputs may be served from the cache of model calls.
    cacheable: ClassVar[bool] = True
    #: An example ``model`` string, for ``mendoza providers``.
    example: ClassVar[str] = ""
    #: Whether a variant of this provider needs a prompt template (an app given as a callable, a replay of
    #: stored outputs and the test doubles do not).
    needs_prompt: ClassVar[bool] = True
    #: The params a judge of this provider starts from when it judges by completion (a short answer on one
    #: line for a base model); the judge's own params override them.
    completion_judge_params: ClassVar[Mapping[str, Any]] = {}

    def __init__(self, variant: Variant) -> None:
        self.variant = variant

    @classmethod  # noqa: B027 - optional hook
    def check(cls, variant: Variant) -> None:
        """Raise ``ConfigError`` or ``ProviderError`` for a mistake in ``variant`` that would fail every sample
        (an app that cannot be imported, a script that does not parse). Called when the suite loads; the
        default checks nothing (whether a model answers is for the run to find out)."""

    @classmethod
    def with_paths_from(cls, variant: Variant, folder: Path) -> Variant:
        """``variant`` with any file its model names made absolute against ``folder`` (the suite file's), so a
        suite runs the same from any working directory; the default names no file."""
        return variant

    @classmethod
    def judge_style(cls, params: Mapping[str, Any]) -> JudgeStyle:
        """How a judge on this provider with ``params`` is prompted unless its suite says (``style``): the
        default is ``instruction``; a provider whose models (or one of whose APIs) continue text says
        ``completion``."""
        return "instruction"

    @classmethod
    def with_json_mode(cls, params: Mapping[str, Any]) -> dict[str, Any]:
        """``params`` asking for an answer in JSON, where this provider has such a mode for them (a judge
        asks when its prompt mentions JSON); the default has none and returns ``params`` as they are."""
        return dict(params)

    @abstractmethod
    async def complete(self, request: ModelRequest) -> ModelResponse:
        """Produce one output for one request."""

    def cache_identity(self) -> dict[str, Any]:
        """What identifies the model behind this provider in a cache key (never a secret)."""
        return {"model": self.variant.model, "base_url": self.variant.base_url}

    async def aclose(self) -> None:  # noqa: B027 - optional hook
        """Release connections or models; called once when the run ends."""
