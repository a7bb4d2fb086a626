"""The application under test as a Python callable: ``python:pkg.module:func`` or ``python:app.py:func``."""

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
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from mendoza.core import ModelRequest, ModelResponse, Variant
from mendoza.errors import ProviderError
from mendoza.providers.base import Provider

__all__ = ["PythonProvider", "load_callable"]


@dataclass(frozen=True, slots=True)
class _Target:
    function: Callable[..., Any]
    is_async: bool
    wants_prompt: bool


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
    try:
        wants_prompt = "prompt" in inspect.signature(obj).parameters
    except (TypeError, ValueError):
        wants_prompt = False
    call = getattr(obj, "__call__", None)  # noqa: B004 - an object with an async __call__ is async too
    is_async = inspect.iscoroutinefunction(obj) or inspect.iscoroutinefunction(call)
    return _Target(obj, is_async, wants_prompt)


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
    """The app under test: ``python:pkg.module:func`` or ``python:path/to/app.py:func`` (relative to the cwd).

    The function gets the case's variables as a dict, and the rendered prompt as ``prompt=`` when it has a
    parameter of that name. It may be sync (run in a worker thread) or async, and returns the output as a
    string, or a dict with ``output`` (a string; anything else is sent as JSON) and optional ``tokens_in``,
    ``tokens_out`` and ``cost``. An exception it raises fails the sample with ``TypeName: message``; a
    ``ProviderError`` it raises is passed on as is (so an app can ask for a retry).
    """

    name: ClassVar[str] = "python"
    description: ClassVar[str] = "the application under test, as a Python function of the case's variables"
    default_concurrency: ClassVar[int] = 4
    cacheable: ClassVar[bool] = False
    example: ClassVar[str] = "python:my_app.bot:answer"

    def __init__(self, variant: Variant) -> None:
        super().__init__(variant)
        self.target = variant.model_name

    @classmethod
    def check(cls, variant: Variant) -> None:
        """Import the app when the suite loads, so a broken import is one error, not one per sample."""
        _loaded(variant.model_name)

    async def complete(self, request: ModelRequest) -> ModelResponse:
        """Call the function once for this case."""
        target = _loaded(self.target)
        arguments = dict(request.vars)
        kwargs = {"prompt": request.prompt} if target.wants_prompt else {}
        try:
            if target.is_async:
                result = await target.function(arguments, **kwargs)
            else:
                result = await asyncio.to_thread(target.function, arguments, **kwargs)
                if inspect.isawaitable(result):
                    result = await result
        except ProviderError:
            raise
        except Exception as exc:
            raise ProviderError(f"{type(exc).__name__}: {exc}") from None
        return self._response(result)

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
        tokens_in = result.get("tokens_in")
        tokens_out = result.get("tokens_out")
        cost = result.get("cost")
        if cost is None and self.variant.pricing is not None:
            cost = self.variant.pricing.cost(tokens_in, tokens_out)
        return ModelResponse(text=output, tokens_in=tokens_in, tokens_out=tokens_out, cost=cost)

    def cache_identity(self) -> dict[str, Any]:
        """The target, with a file path made absolute."""
        return {"model": self.variant.model, "target": _cache_key(self.target)}
