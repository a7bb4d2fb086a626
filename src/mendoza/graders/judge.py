"""A judge: any provider asked to grade, with its own cache, concurrency limit, retries and seeds.

A judge is named like a variant's model (``local/gemma-3-270m``, ``openai/gpt-4o-mini`` with ``base_url`` and
``api_key_env``, ``anthropic/...``, ``mock``) and built through the registry from a ``Variant`` of its own, so
every provider can judge. Its calls are cached in the store's cache of model calls, keyed by the judge's
identity, the prompt, the params, the seed and the judge-repeat index (so ``judge_repeats: 3`` is three
answers, and a regrade with the same judge costs nothing); they run concurrently up to the judge's own limit.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

from mendoza.config.yaml_source import read_limited
from mendoza.core import Case, ModelRequest, ModelResponse, Variant, stable_hash
from mendoza.errors import ConfigError, GraderError, MendozaError, ProviderError
from mendoza.graders.base import GraderParams, ModelCache, render_param
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

JudgeStyle = Literal["completion", "instruction"]
"""How a judge is prompted: ``completion`` (a base model continues a few-shot text ending in ``Verdict:``) or
``instruction`` (a chat model follows instructions and answers in JSON)."""

#: What a base model judging by completion needs: a short answer on one line.
_COMPLETION_DEFAULTS: dict[str, Any] = {"max_tokens": 6, "stop": ["\n"], "temperature": 0.0}
_MAX_DEFAULT_CONCURRENCY = 64
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


def _style_of(spec: JudgeSpec) -> JudgeStyle:
    if spec.style is not None:
        return spec.style
    provider = spec.model.split("/", 1)[0]
    api = spec.params.get("api")
    if (provider == "local" and api != "chat") or (provider == "openai" and api == "completions"):
        return "completion"
    return "instruction"


class Judge:
    """A provider built for judging (see the module), shared by every sample a grader grades."""

    def __init__(self, spec: JudgeSpec) -> None:
        self.spec = spec
        self.style: JudgeStyle = _style_of(spec)
        provider_name = spec.model.split("/", 1)[0] if not spec.model.startswith("python:") else "python"
        defaults = _COMPLETION_DEFAULTS if self.style == "completion" and provider_name == "local" else {}
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
            # A mendoza.providers.base.Provider, found through the registry (graders do not import providers).
            self.provider: Any = provider_class(variant.provider_name)(variant)
        except MendozaError as exc:
            raise GraderError(f"judge '{spec.label}': {exc}") from None
        self.json_mode = spec.json_mode
        self.identity: dict[str, Any] = dict(self.provider.cache_identity())
        self.limit = spec.concurrency or min(self.provider.default_concurrency, _MAX_DEFAULT_CONCURRENCY)
        self.calls = 0
        self._cache: ModelCache | None = None
        self._semaphore: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._rng = random.Random(0)

    @property
    def label(self) -> str:
        """How reports name this judge."""
        return self.spec.label

    def use_cache(self, cache: ModelCache | None) -> None:
        """Cache this judge's calls in ``cache`` (None: call every time). Providers that are not cacheable
        (the scripted mock, unless asked) are never cached."""
        self._cache = cache if getattr(self.provider, "cacheable", False) else None

    def _params_for(self, prompt: str) -> dict[str, Any]:
        """The request params: the judge's own, plus JSON mode where the provider has it (OpenAI's
        ``response_format``, which needs the word JSON in the prompt)."""
        params = dict(self.params)
        wants_json = self.json_mode if self.json_mode is not None else "json" in prompt.lower()
        is_openai_chat = self.provider.name == "openai" and params.get("api", "chat") == "chat"
        if wants_json and is_openai_chat and "response_format" not in params:
            params["response_format"] = {"type": "json_object"}
        return params

    def _limiter(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._semaphore is None or self._loop is not loop:
            self._semaphore, self._loop = asyncio.Semaphore(self.limit), loop
        return self._semaphore

    async def ask(self, prompt: str, seed: int, repeat: int = 0, attempt: int = 0) -> str:
        """The judge's answer to ``prompt`` (from the cache when it has it). ``repeat`` is the judge-repeat
        index and ``attempt`` the re-ask number: each gets its own seed and cache entry. A call that fails
        after the retries is a ``GraderError``."""
        seed = (seed + attempt * _REASK_SEED_STEP) & 0x7FFFFFFF
        params = self._params_for(prompt)
        key = None
        if self._cache is not None:
            key = stable_hash(
                {
                    "kind": "judge",
                    "judge": dict(self.identity),
                    "prompt": prompt,
                    "params": params,
                    "seed": seed,
                    "judge_repeat": repeat,
                    "attempt": attempt,
                }
            )
            cached = self._cache.cache_get(key)
            if cached is not None:
                return cached.text
        request = ModelRequest(prompt=prompt, vars={}, params=params, seed=seed)
        async with self._limiter():
            response = await self._call(request)
        if key is not None and self._cache is not None:
            self._cache.cache_put_many([(key, response)])
        return response.text

    async def _call(self, request: ModelRequest) -> ModelResponse:
        """One call with a timeout and retries (exponential backoff with jitter, honouring Retry-After)."""
        attempt = 0
        while True:
            attempt += 1
            self.calls += 1
            try:
                async with asyncio.timeout(self.spec.timeout):
                    response: ModelResponse = await self.provider.complete(request)
                    return response
            except TimeoutError:
                error = ProviderError(f"no answer within {self.spec.timeout:g}s", retryable=True)
            except ProviderError as exc:
                error = exc
            except Exception as exc:  # a provider bug becomes this grade's error, never a crash
                error = ProviderError(f"{type(exc).__name__}: {exc}")
            if not error.retryable or attempt > self.spec.max_retries:
                raise GraderError(f"judge '{self.label}': {error}")
            delay = error.retry_after or self._rng.uniform(0.0, min(30.0, 0.5 * 2 ** (attempt - 1)))
            await asyncio.sleep(min(delay, 120.0))

    async def aclose(self) -> None:
        """Release the provider's connections."""
        await self.provider.aclose()


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
