"""A judge: any provider asked to grade, through the same call path as the runner's samples, with its own seeds.

A judge is named like a variant's model (``local/gemma-3-270m``, ``openai/gpt-4o-mini`` with ``base_url`` and
``api_key_env``, ``anthropic/...``, ``mock``) and built through the registry from a ``Variant`` of its own, so
every provider can judge. Its calls are cached in the store's cache of model calls, keyed by the judge's
identity, the prompt, the params, the seed and the judge-repeat index (so ``judge_repeats: 3`` is three
answers, and a regrade with the same judge costs nothing); they run concurrently up to the judge's own limit,
with its timeout and retries: a ``mendoza.calls.ModelCaller``, like every model call.
"""

from __future__ import annotations

import hashlib
import random
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from mendoza.calls import (
    JudgeStyle,
    ModelCache,
    ModelCaller,
    Provider,
    RetryPolicy,
    concurrency_limit,
    judge_cache_key,
)
from mendoza.config.yaml_source import read_limited
from mendoza.core import Case, ModelRequest, Variant, provider_name_of
from mendoza.errors import ConfigError, GraderError, MendozaError
from mendoza.graders.base import GraderParams, render_param
from mendoza.registry import provider_class

__all__ = [
    "DEFAULT_JUDGE_MODEL",
    "Judge",
    "JudgeSpec",
    "JudgeStyle",
    "inline_prompt_file",
    "judge_input",
    "judge_seed",
    "judge_spec",
    "unread_file_error",
]

DEFAULT_JUDGE_MODEL = "local/gemma-3-270m"
"""The judge when a suite names none: the embedded model (weak: measure it before trusting it)."""

_MAX_DEFAULT_CONCURRENCY = 64
#: The longest a judge waits before one retry (a server asking for more makes the grade an error at once).
_MAX_RETRY_WAIT = 120.0
_REASK_SEED_STEP = 7919


class JudgeSpec(GraderParams):
    """One judge as a suite names it: a model (with endpoint and params) and, optionally, its own prompt."""

    model: str = DEFAULT_JUDGE_MODEL
    name: str | None = None
    base_url: str | None = None
    api_key_env: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    prompt: str | None = None
    prompt_file: str | None = None
    concurrency: int | None = Field(default=None, ge=1)
    timeout: float = Field(default=120.0, gt=0)
    max_retries: int = Field(default=3, ge=0, le=10)
    json_mode: bool | None = None
    style: JudgeStyle | None = None

    @field_validator("model")
    @classmethod
    def _model_named(cls, model: str) -> str:
        if not model.strip():
            raise ValueError("a judge needs a model, e.g. local/gemma-3-270m or openai/gpt-4o-mini")
        return model

    @field_validator("prompt_file")
    @classmethod
    def _file_read_in(cls, value: str | None) -> str | None:
        if value is not None:
            raise ValueError(unread_file_error("prompt_file", "prompt"))
        return value

    @property
    def label(self) -> str:
        """How reports name this judge: its ``name``, else its model."""
        return self.name or self.model


def judge_spec(value: Any) -> JudgeSpec:
    """A judge from what a suite writes: a model string, a mapping, or a ``JudgeSpec``."""
    if isinstance(value, JudgeSpec):
        return value
    if isinstance(value, str):
        return JudgeSpec(model=value)
    return JudgeSpec.model_validate(value)


def judge_seed(*parts: object) -> int:
    """A reproducible seed for one judge call, from what identifies it (case, output, criterion, repeat...)."""
    digest = hashlib.sha256("\x1f".join(str(part) for part in parts).encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


class Judge:
    """A provider built for judging (see the module), shared by every sample a grader grades."""

    def __init__(self, spec: JudgeSpec) -> None:
        self.spec = spec
        try:
            # Found through the registry: graders do not import providers, only their interface.
            cls: type[Provider] = provider_class(provider_name_of(spec.model))
        except MendozaError as exc:
            raise GraderError(f"judge '{spec.label}': {exc}") from None
        # How to prompt and which params to start from are the provider's to say (its judge_style and
        # completion_judge_params), so no provider is named here.
        self.style: JudgeStyle = spec.style if spec.style is not None else cls.judge_style(spec.params)
        defaults = cls.completion_judge_params if self.style == "completion" else {}
        self.params: dict[str, Any] = {**defaults, **spec.params}
        variant = Variant(
            id=f"judge {spec.label}",
            model=spec.model,
            params=self.params,
            base_url=spec.base_url,
            api_key_env=spec.api_key_env,
            concurrency=spec.concurrency,
            timeout=spec.timeout,
        )
        try:
            self.provider: Provider = cls(variant)
        except MendozaError as exc:
            raise GraderError(f"judge '{spec.label}': {exc}") from None
        self.json_mode = spec.json_mode
        policy = RetryPolicy(max_retries=spec.max_retries, timeout=spec.timeout, max_retry_wait=_MAX_RETRY_WAIT)
        limit = concurrency_limit(self.provider, spec.concurrency, _MAX_DEFAULT_CONCURRENCY)
        self.caller = ModelCaller(self.provider, policy, limit, rng=random.Random(0))

    @property
    def label(self) -> str:
        """How reports name this judge."""
        return self.spec.label

    @property
    def calls(self) -> int:
        """How many calls reached the provider (retries included; answers from the cache are not calls)."""
        return self.caller.attempts

    def use_cache(self, cache: ModelCache | None) -> None:
        """Cache this judge's calls in ``cache`` (None: call every time). Providers that are not cacheable
        (the scripted mock, unless asked) are never cached."""
        self.caller.use_cache(cache)

    def _params_for(self, prompt: str) -> dict[str, Any]:
        """The request params: the judge's own, in the provider's JSON mode when it has one and the judge wants
        JSON (``json_mode``, else whether the prompt mentions JSON)."""
        wants_json = self.json_mode if self.json_mode is not None else "json" in prompt.lower()
        return self.provider.with_json_mode(self.params) if wants_json else dict(self.params)

    async def ask(self, prompt: str, seed: int, repeat: int = 0, attempt: int = 0) -> str:
        """The judge's answer to ``prompt`` (from the cache when it has it). ``repeat`` is the judge-repeat
        index and ``attempt`` the re-ask number: each gets its own seed and cache entry. A call that fails
        after the retries is a ``GraderError``."""
        seed = (seed + attempt * _REASK_SEED_STEP) & 0x7FFFFFFF
        params = self._params_for(prompt)
        key = None
        if self.caller.caching:
            key = judge_cache_key(self.caller.identity, prompt, params, seed, repeat, attempt)
        result = await self.caller.call(ModelRequest(prompt=prompt, vars={}, params=params, seed=seed), key)
        if result.response is None:
            raise GraderError(f"judge '{self.label}': {result.error}")
        return result.response.text

    async def aclose(self) -> None:
        """Release the provider's connections."""
        await self.caller.aclose()


def judge_input(case: Case, template: str | None) -> str:
    """What a judge is shown as the feature's input: ``template`` rendered over the case, else the case's one
    variable, else its variables as ``name: value`` lines."""
    if template is not None:
        return str(render_param(template, case))
    if len(case.vars) == 1:
        return str(next(iter(case.vars.values())))
    return "\n".join(f"{name}: {value}" for name, value in case.vars.items())


def inline_prompt_file(params: dict[str, Any], file_key: str, text_key: str, base_dir: Path) -> dict[str, Any]:
    """``params`` with the file named by ``file_key`` (relative to ``base_dir``) read into ``text_key``."""
    name = params.get(file_key)
    if name is None:
        return params
    if params.get(text_key) is not None:
        raise ConfigError(f"set '{text_key}' or '{file_key}', not both")
    path = base_dir / str(name)
    try:
        text = read_limited(path).decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{file_key} '{name}' is not UTF-8 text") from None
    except ConfigError as exc:
        raise ConfigError(f"{file_key} '{name}': {exc.detail}") from None
    except OSError:
        raise ConfigError(f"{file_key} '{name}' not found (looked in {base_dir})") from None
    inlined = {key: value for key, value in params.items() if key != file_key}
    inlined[text_key] = text
    return inlined


def unread_file_error(key: str, text_key: str) -> str:
    """The message for a prompt file that was never read in (a suite built in Python, not loaded from YAML)."""
    return f"'{key}' is read when a suite file loads; from Python, give the template text as '{text_key}'"
