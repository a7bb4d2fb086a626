"""A scripted test double: outputs, pass rates, errors and delays chosen by the variant's params."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping
from typing import Any, ClassVar

import jinja2

from mendoza.config.templates import user_environment
from mendoza.core import ModelRequest, ModelResponse, Variant, stable_hash
from mendoza.errors import ConfigError, ProviderError, ProviderTimeout
from mendoza.providers.base import Provider
from mendoza.providers.chat import last_user_turn

__all__ = ["ERROR_KINDS", "MockProvider"]

ERROR_KINDS = ("rate_limit", "server", "timeout", "fatal")
_HANG_SECONDS = 10 * 24 * 3600.0
_ENV = user_environment(keep_trailing_newline=True)


class _Text:
    """A fixed output, rendered over the vars only when it is a Jinja2 template."""

    __slots__ = ("source", "template")

    def __init__(self, source: str, key: str, where: str) -> None:
        self.source = source
        self.template: jinja2.Template | None = None
        if "{{" in source or "{%" in source:
            try:
                self.template = _ENV.from_string(source)
            except jinja2.TemplateSyntaxError as exc:
                message = f"mock param '{key}': template syntax error on its line {exc.lineno}: {exc.message}"
                raise ConfigError(message, where) from None

    def render(self, variables: Mapping[str, Any]) -> str:
        if self.template is None:
            return self.source
        try:
            return self.template.render(variables)
        except Exception as exc:  # any failure of the author's template (1/0 too) fails this sample only
            raise ProviderError(f"mock: the output template {self.source!r} fails: {exc}") from None


def _rate(value: Any, key: str, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0.0 <= value <= 1.0:
        raise ConfigError(f"mock param '{key}' must be a number in [0, 1], not {value!r}", where)
    return float(value)


def _count(value: Any, key: str, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"mock param '{key}' must be a whole number >= 0, not {value!r}", where)
    return value


def _seconds(value: Any, key: str, where: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"mock param '{key}' must be seconds >= 0, not {value!r}", where)
    return float(value)


class MockProvider(Provider):
    """``mock`` or ``mock/<anything>``: a scripted model for tests and benchmarks, driven by ``params``.

    What it answers (the first that is set wins):

    - ``turns``: in a conversation (``request.messages``), a list of outputs by turn: the answer to the
      conversation's Nth user turn is ``turns[N-1]`` (a template over the vars, like ``output``); a turn past
      the end of the list is answered by the rules below.
    - ``output``: a fixed string, rendered as a Jinja2 template over the vars (undefined names are an error).
    - ``outputs``: a list of such strings; a sample gets ``outputs[seed % len(outputs)]`` (deterministic).
    - ``pass_rate`` (a float in [0, 1]) or ``pass_rates`` (``{case_id: rate}``, by the request's
      ``case_id``; cases not listed use ``pass_rate``, else 1.0): the output is ``pass_output``
      (default ``"PASS"``) when ``random.Random(seed).random() < rate``, else ``fail_output`` (``"FAIL"``).
    - otherwise, in a conversation, its last user turn; else the rendered prompt (or ``"mock"`` when there is
      none).

    How it behaves:

    - ``delay``: seconds to wait before answering (``asyncio.sleep``), or ``[low, high]`` for a seeded
      uniform delay.
    - ``hang``: true to wait ten days (so a timeout must cut it).
    - ``error``: the kind of scripted failure: ``rate_limit`` (retryable, ``retry_after`` from the param of
      that name, default none), ``server`` (retryable; the default), ``timeout`` (``ProviderTimeout``),
      ``fatal`` (not retryable).
    - ``fail_first``: each request, keyed by its seed, fails its first N attempts, then succeeds.
    - ``fail_always``: true to fail every call.
    - ``fail_rate``: a float; that seeded fraction of requests fail on every attempt.
    - ``cacheable``: true to let the runner cache its outputs (the class default is false).

    Other keys are ignored. ``calls`` counts calls and ``attempts`` maps each seed to its number of calls.
    Tokens in and out are word counts (in: of the prompt, or of every turn of a conversation), priced when
    the variant has ``pricing``.
    """

    name: ClassVar[str] = "mock"
    description: ClassVar[str] = "scripted outputs, errors and delays, for tests and benchmarks"
    default_concurrency: ClassVar[int] = 1_000
    cacheable: ClassVar[bool] = False
    needs_prompt: ClassVar[bool] = False
    example: ClassVar[str] = "mock"

    def __init__(self, variant: Variant) -> None:
        super().__init__(variant)
        params = variant.params
        where = f"variant '{variant.id}'"
        self.calls = 0
        self.attempts: dict[int, int] = {}
        if params.get("cacheable"):
            # An instance attribute shadows the class default: read ``provider.cacheable`` from the instance.
            self.__dict__["cacheable"] = True

        turns = params.get("turns")
        if turns is not None and (not isinstance(turns, list) or not turns):
            raise ConfigError("mock param 'turns' must be a non-empty list of outputs, one per user turn", where)
        self._turns = [_Text(str(item), "turns", where) for item in turns] if turns else None
        output = params.get("output")
        self._output = _Text(str(output), "output", where) if output is not None else None
        outputs = params.get("outputs")
        if outputs is not None and (not isinstance(outputs, list) or not outputs):
            raise ConfigError("mock param 'outputs' must be a non-empty list", where)
        self._outputs = [_Text(str(item), "outputs", where) for item in outputs] if outputs else None
        self._pass_rate = _rate(params["pass_rate"], "pass_rate", where) if "pass_rate" in params else None
        rates = params.get("pass_rates")
        if rates is not None and not isinstance(rates, Mapping):
            raise ConfigError("mock param 'pass_rates' must map case ids to rates", where)
        self._pass_rates = {str(k): _rate(v, f"pass_rates.{k}", where) for k, v in (rates or {}).items()}
        self._pass_output = str(params.get("pass_output", "PASS"))
        self._fail_output = str(params.get("fail_output", "FAIL"))

        delay = params.get("delay", 0)
        if isinstance(delay, list | tuple):
            if len(delay) != 2 or not all(isinstance(x, int | float) and x >= 0 for x in delay):
                raise ConfigError("mock param 'delay' must be seconds or [low, high]", where)
            self._delay: float | tuple[float, float] = (float(delay[0]), float(delay[1]))
        elif isinstance(delay, int | float) and delay >= 0:
            self._delay = float(delay)
        else:
            raise ConfigError(f"mock param 'delay' must be seconds or [low, high], not {delay!r}", where)
        self._hang = bool(params.get("hang", False))

        self._error = params.get("error", "server")
        if self._error not in ERROR_KINDS:
            raise ConfigError(f"mock param 'error' must be one of {', '.join(ERROR_KINDS)}", where)
        self._retry_after = _seconds(params.get("retry_after"), "retry_after", where)
        self._fail_first = _count(params.get("fail_first", 0), "fail_first", where)
        self._fail_always = bool(params.get("fail_always", False))
        self._fail_rate = _rate(params["fail_rate"], "fail_rate", where) if "fail_rate" in params else 0.0

    @classmethod
    def check(cls, variant: Variant) -> None:
        """The params and output templates are checked by building the provider (``ConfigError`` if wrong)."""
        cls(variant)

    def _failure(self) -> ProviderError:
        if self._error == "rate_limit":
            return ProviderError("mock: scripted rate limit", retryable=True, retry_after=self._retry_after)
        if self._error == "timeout":
            return ProviderTimeout("mock: scripted timeout")
        if self._error == "fatal":
            return ProviderError("mock: scripted fatal error")
        return ProviderError("mock: scripted server error", retryable=True)

    def _text(self, request: ModelRequest) -> str:
        if self._turns is not None and request.messages:
            turn = sum(message.role == "user" for message in request.messages)
            if 1 <= turn <= len(self._turns):
                return self._turns[turn - 1].render(request.vars)
        if self._output is not None:
            return self._output.render(request.vars)
        if self._outputs is not None:
            return self._outputs[request.seed % len(self._outputs)].render(request.vars)
        if self._pass_rate is not None or self._pass_rates:
            rate = self._pass_rates.get(
                request.case_id, self._pass_rate if self._pass_rate is not None else 1.0
            )
            passed = random.Random(request.seed).random() < rate
            return self._pass_output if passed else self._fail_output
        said = last_user_turn(request)
        if said is not None:
            return said
        return request.prompt if request.prompt is not None else "mock"

    async def complete(self, request: ModelRequest) -> ModelResponse:
        """Wait, fail or answer as the params script it."""
        seed = request.seed
        self.calls += 1
        attempt = self.attempts[seed] = self.attempts.get(seed, 0) + 1
        if self._hang:
            await asyncio.sleep(_HANG_SECONDS)
        if isinstance(self._delay, tuple):
            low, high = self._delay
            await asyncio.sleep(random.Random(f"delay:{seed}:{attempt}").uniform(low, high))
        elif self._delay:
            await asyncio.sleep(self._delay)
        if (
            self._fail_always
            or attempt <= self._fail_first
            or (self._fail_rate and random.Random(f"fail:{seed}").random() < self._fail_rate)
        ):
            raise self._failure()
        text = self._text(request)
        if request.messages:
            tokens_in = sum(len(message.content.split()) for message in request.messages)
        else:
            tokens_in = len(request.prompt.split()) if request.prompt is not None else 0
        tokens_out = len(text.split())
        pricing = self.variant.pricing
        return ModelResponse(
            text=text,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            cost=pricing.cost(tokens_in, tokens_out) if pricing is not None else None,
            finish_reason="stop",
        )

    def cache_identity(self) -> dict[str, Any]:
        """The model and a hash of the script (two scripts never share cached outputs)."""
        return {"model": self.variant.model, "params": stable_hash(self.variant.params)}
