"""The application under test as a Python callable: ``python:pkg.module:func`` or ``python:app.py:func``.

The contract (also in the README):

- **arguments**: the function gets, as keyword arguments, those of ``vars`` (the case's variables, a dict),
  ``prompt`` (the variant's rendered prompt, or None), ``system``, ``params`` (the variant's params),
  ``case_id``, ``repeat`` (0-based) and ``seed`` that it declares by name. A first positional parameter
  with any other name gets ``vars`` (``def answer(case): ...``, the original contract). A ``**kwargs`` gets
  nothing: what is passed is what is declared. A required parameter that none of these fills is an error
  when the app is loaded.
- **result**: a ``str`` is the output. A dict's ``output`` is the output (anything but a string is written
  as JSON); ``tokens_in``, ``tokens_out`` (ints) and ``cost`` (a number) are used as such; every other key
  is kept, as ``metadata`` on the sample (``ModelResponse.metadata`` / ``Sample.metadata``), never dropped.
- **failures**: an exception fails the sample with ``TypeName: message`` (a ``ProviderError`` passes as it
  is, so an app can ask for a retry); ``sys.exit()`` inside the app fails the sample too, it never ends the
  run or sets mendoza's exit status.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib
import importlib.util
import inspect
import json
import os
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

from mendoza.calls.tracing import capture_steps
from mendoza.core import ModelRequest, ModelResponse, Variant
from mendoza.errors import ProviderError
from mendoza.providers.base import Provider

__all__ = ["ARGUMENTS", "IN_PROCESS", "RESULT_KEYS", "PythonProvider", "app_target", "load_callable"]

#: The keyword arguments an app may declare, and what each is.
ARGUMENTS: dict[str, str] = {
    "vars": "the case's variables (a dict)",
    "prompt": "the variant's rendered prompt (None without one)",
    "system": "the variant's rendered system prompt (None without one)",
    "params": "the variant's params (a dict)",
    "case_id": "the case's id",
    "repeat": "the repeat index, from 0",
    "seed": "the sample's seed (the same for every variant at one case and repeat)",
    "messages": "the conversation so far, as a list of {role, content} dicts (None when the case has none)",
}
#: The keys of a returned dict that mendoza reads; any other key is kept as metadata.
RESULT_KEYS = ("output", "tokens_in", "tokens_out", "cost")

_POSITIONAL = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)


@dataclass(frozen=True, slots=True)
class _Target:
    function: Callable[..., Any]
    is_async: bool
    #: The contract's arguments the function declares by name.
    keywords: tuple[str, ...]
    #: Whether the case's vars go in as the first positional argument (the original contract).
    vars_positional: bool


def _signature(target: str, function: Callable[..., Any]) -> tuple[tuple[str, ...], bool]:
    """(the contract's names the function declares, whether vars go first positionally)."""
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):  # a builtin without a signature: the original contract
        return (), True
    keywords = tuple(
        p.name for p in parameters
        if p.name in ARGUMENTS and p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    )
    first = parameters[0] if parameters else None
    vars_positional = first is not None and (
        first.kind == inspect.Parameter.VAR_POSITIONAL or (first.kind in _POSITIONAL and first.name not in keywords)
    )
    filled = set(keywords) | ({first.name} if vars_positional and first is not None else set())
    for parameter in parameters:
        required = parameter.default is inspect.Parameter.empty and parameter.kind not in (
            inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD
        )
        if required and parameter.name not in filled:
            raise ProviderError(
                f"python: {target} needs an argument '{parameter.name}' that mendoza does not pass: declare "
                f"any of {', '.join(ARGUMENTS)} by name (or take the case's vars as the one positional argument)"
            )
    return keywords, vars_positional


# One import per process and target (failures too, so a broken app fails fast for every sample).
_LOADED: dict[str, _Target | ProviderError] = {}
_LOCK = threading.Lock()


def _is_file(module_part: str) -> bool:
    return module_part.endswith(".py") or "/" in module_part or os.sep in module_part


def _cache_key(target: str) -> str:
    module_part, _, attribute = target.rpartition(":")
    if module_part and _is_file(module_part):
        return f"{Path(module_part).resolve()}:{attribute}"
    return target


def _import_module(module_part: str, target: str) -> Any:
    if _is_file(module_part):
        path = Path(module_part).resolve()
        if not path.is_file():
            raise ProviderError(f"python: cannot import {target}: no file {path}")
        name = "_mendoza_app_" + hashlib.sha256(str(path).encode()).hexdigest()[:12]
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ProviderError(f"python: cannot import {target}: {path} is not a Python module")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        if str(path.parent) not in sys.path:  # so the file can import its neighbours
            sys.path.append(str(path.parent))
        try:
            spec.loader.exec_module(module)
        except BaseException:
            sys.modules.pop(name, None)
            raise
        return module
    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:  # the `mendoza` script does not put the cwd on sys.path
        sys.path.append(cwd)
    return importlib.import_module(module_part)


def _load(target: str) -> _Target:
    module_part, sep, attribute = target.rpartition(":")
    if module_part == IN_PROCESS:
        raise ProviderError(
            f"python: the app '{attribute}' was given as a Python callable in another process; run it again from "
            "Python (a run of an in-process app can be resumed only in the process that started it)"
        )
    if not sep or not module_part or not attribute:
        raise ProviderError(
            f"python: '{target}' is not a callable target: "
            "write python:pkg.module:func or python:path/to/app.py:func"
        )
    try:
        obj = _import_module(module_part, target)
    except ProviderError:
        raise
    except Exception as exc:
        raise ProviderError(f"python: cannot import {target}: {type(exc).__name__}: {exc}") from None
    for part in attribute.split("."):
        if not hasattr(obj, part):
            raise ProviderError(
                f"python: cannot import {target}: '{module_part}' has no attribute '{attribute}'"
            )
        obj = getattr(obj, part)
    if not callable(obj):
        raise ProviderError(f"python: {target} is not callable")
    keywords, vars_positional = _signature(target, obj)
    call = getattr(obj, "__call__", None)  # noqa: B004 - an object with an async __call__ is async too
    is_async = inspect.iscoroutinefunction(obj) or inspect.iscoroutinefunction(call)
    return _Target(obj, is_async, keywords, vars_positional)


def app_target(function: Callable[..., Any]) -> str:
    """The ``python:`` model string of an app given as a Python callable: its import path when it has one (so
    another process, e.g. a resume, can import it), else an in-process name registered here (usable only in
    this process: a resume elsewhere says so in one line)."""
    module = getattr(function, "__module__", None)
    qualname = getattr(function, "__qualname__", None)
    if module and qualname and module != "__main__" and "<" not in qualname:
        try:
            found: Any = importlib.import_module(module)
            for part in qualname.split("."):
                found = getattr(found, part)
        except Exception:  # not importable as named: register it instead
            found = None
        if found is function:
            return f"python:{module}:{qualname}"
    if not callable(function):
        raise ProviderError(f"an app must be callable, not {type(function).__name__}")
    name = f"{(qualname or 'app').replace('<', '').replace('>', '').replace(':', '.')}.{id(function):x}"
    target = f"{IN_PROCESS}:{name}"
    keywords, vars_positional = _signature(target, function)
    call = getattr(function, "__call__", None)  # noqa: B004 - an object with an async __call__ is async too
    is_async = inspect.iscoroutinefunction(function) or inspect.iscoroutinefunction(call)
    with _LOCK:
        _LOADED[target] = _Target(function, is_async, keywords, vars_positional)
    return f"python:{target}"


#: The module part of an app registered in this process (``app_target``): never an importable module.
IN_PROCESS = "<in-process>"


def load_callable(target: str) -> Callable[..., Any]:
    """The function that ``target`` (``pkg.module:func`` or ``path/to/app.py:func``) names, imported once.

    Raises ``ProviderError`` (not retryable) naming the target when it cannot be imported or found.
    """
    return _loaded(target).function


def _loaded(target: str) -> _Target:
    key = _cache_key(target)
    found = _LOADED.get(key)
    if found is None:
        with _LOCK:
            found = _LOADED.get(key)
            if found is None:
                try:
                    found = _load(target)
                except ProviderError as exc:
                    found = exc
                _LOADED[key] = found
    if isinstance(found, ProviderError):
        raise ProviderError(str(found))
    return found


class PythonProvider(Provider):
    """The app under test: ``python:pkg.module:func`` or ``python:path/to/app.py:func`` (a file's path is
    relative to the suite file when the file is there, else to the working directory).

    The function gets what it declares of ``vars``, ``prompt``, ``system``, ``params``, ``case_id``,
    ``repeat`` and ``seed`` (or the vars as its one positional argument), may be sync (run in a worker
    thread) or async, and returns the output as a string or a dict with ``output`` (see the module's
    docstring for the whole contract).
    """

    name: ClassVar[str] = "python"
    description: ClassVar[str] = "the application under test, as a Python function of the case's variables"
    default_concurrency: ClassVar[int] = 4
    cacheable: ClassVar[bool] = False
    needs_prompt: ClassVar[bool] = False
    example: ClassVar[str] = "python:my_app.bot:answer"

    def __init__(self, variant: Variant) -> None:
        super().__init__(variant)
        self.target = variant.model_name

    @classmethod
    def check(cls, variant: Variant) -> None:
        """Import the app when the suite loads, so a broken import is one error, not one per sample."""
        _loaded(variant.model_name)

    @classmethod
    def with_paths_from(cls, variant: Variant, folder: Path) -> Variant:
        """A ``path/to/app.py:func`` found beside the suite file becomes absolute (like ``cases:`` files)."""
        module_part, separator, function = variant.model_name.rpartition(":")
        if not separator or not _is_file(module_part) or Path(module_part).is_absolute():
            return variant
        beside = folder / module_part
        if not beside.is_file():
            return variant  # the working directory's, as before
        return variant.model_copy(update={"model": f"python:{beside.resolve()}:{function}"})

    async def complete(self, request: ModelRequest) -> ModelResponse:
        """Call the function once for this case."""
        target = _loaded(self.target)
        available: dict[str, Any] = {
            "vars": dict(request.vars),
            "prompt": request.prompt,
            "system": request.system,
            "params": dict(request.params),
            "case_id": request.case_id,
            "repeat": request.repeat,
            "seed": request.seed,
            "messages": None if request.messages is None else [m.model_dump() for m in request.messages],
        }
        args = (available["vars"],) if target.vars_positional else ()
        kwargs = {name: available[name] for name in target.keywords}
        failure: ProviderError | None = None
        with capture_steps() as captured:
            try:
                if target.is_async:
                    result = await target.function(*args, **kwargs)
                else:
                    # to_thread copies the context: the app's spans in its thread join this sample's trace.
                    result = await asyncio.to_thread(target.function, *args, **kwargs)
                    if inspect.isawaitable(result):
                        result = await result
            except ProviderError as exc:
                failure = exc
            except Exception as exc:
                failure = ProviderError(f"{type(exc).__name__}: {exc}")
            except SystemExit as exc:  # the app's exit ends this sample, never the run (nor sets its status)
                code = "" if exc.code is None else repr(exc.code)
                failure = ProviderError(f"python: {self.target} called exit({code})")
        if failure is not None:
            failure.steps = captured.steps  # where the app got to before it failed
            raise failure
        return replace(self._response(result), steps=captured.steps)

    def _response(self, result: Any) -> ModelResponse:
        if isinstance(result, str):
            return ModelResponse(text=result)
        if not isinstance(result, Mapping) or "output" not in result:
            raise ProviderError(
                f"python: {self.target} returned {type(result).__name__}; "
                "return a str or a dict with 'output' (and optional tokens_in, tokens_out, cost)"
            )
        output = result["output"]
        if not isinstance(output, str):
            output = json.dumps(output, ensure_ascii=False, default=str)
        tokens_in = self._count(result, "tokens_in")
        tokens_out = self._count(result, "tokens_out")
        cost = result.get("cost")
        if cost is not None and (isinstance(cost, bool) or not isinstance(cost, int | float)):
            raise ProviderError(f"python: {self.target} returned cost {cost!r}; it must be a number (US dollars)")
        if cost is None and self.variant.pricing is not None:
            cost = self.variant.pricing.cost(tokens_in, tokens_out)
        metadata = {str(key): value for key, value in result.items() if key not in RESULT_KEYS}
        return ModelResponse(
            text=output,
            tokens_in=tokens_in,
            tokens_out=tokens_out,
            cost=None if cost is None else float(cost),
            metadata=metadata or None,
        )

    def _count(self, result: Mapping[str, Any], key: str) -> int | None:
        value = result.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            raise ProviderError(f"python: {self.target} returned {key} {value!r}; it must be an integer")
        return value

    def cache_identity(self) -> dict[str, Any]:
        """The target, with a file path made absolute."""
        return {"model": self.variant.model, "target": _cache_key(self.target)}
