"""A grader that is a Python function the suite's author wrote: ``python: "my_checks:is_polite"``."""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import inspect
import math
import os
import sys
from collections.abc import Awaitable, Callable
from functools import cache
from numbers import Real
from pathlib import Path
from typing import Any

from pydantic import Field

from mendoza.core import Case
from mendoza.errors import GraderError
from mendoza.graders.base import GraderParams, SampleGrader, Verdict
from mendoza.graders.text import shorten

__all__ = ["PythonFunction", "load_function"]

_SHAPES = (
    "a bool, a score in [0, 1], a (passed, explanation) tuple, a dict with passed/score/explanation, "
    "or a Verdict"
)


def _import_file(path_text: str, target: str) -> Any:
    path = Path(path_text).resolve()
    if not path.is_file():
        where = f"paths are relative to {os.getcwd()}"
        raise GraderError(f"python grader {target!r}: file {path_text!r} not found ({where})")
    name = f"mendoza_user_{path.stem}_{hashlib.sha256(str(path).encode()).hexdigest()[:8]}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise GraderError(f"python grader {target!r}: file {path_text!r} cannot be imported")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _import_module(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        # As with ``python -m``, find a module in the current directory even when "." is not on the path.
        cwd = os.getcwd()
        if exc.name != name.split(".")[0] or cwd in sys.path:
            raise
        sys.path.append(cwd)
        return importlib.import_module(name)


@cache
def load_function(target: str) -> Callable[..., Any]:
    """The function ``target`` names: ``pkg.module:func`` or ``path/to/file.py:func`` (relative to the current
    directory). Imported once per target; any failure is a ``GraderError`` naming the target. A module that
    is only found in the current directory is found anyway (the directory is appended to ``sys.path``)."""
    module_part, sep, attribute = target.rpartition(":")
    if not sep or not module_part or not attribute:
        raise GraderError(f"python grader {target!r} must look like 'pkg.module:func' or 'path/file.py:func'")
    is_path = module_part.endswith(".py") or "/" in module_part or os.sep in module_part
    try:
        module = _import_file(module_part, target) if is_path else _import_module(module_part)
    except GraderError:
        raise
    except Exception as exc:
        why = f"{type(exc).__name__}: {exc}"
        raise GraderError(f"python grader {target!r} cannot be imported: {why}") from None
    function = module
    for part in attribute.split("."):
        function = getattr(function, part, None)
        if function is None:
            raise GraderError(f"python grader {target!r}: {module_part} has no attribute {attribute!r}")
    if not callable(function):
        raise GraderError(f"python grader {target!r} is not callable (it is a {type(function).__name__})")
    try:
        inspect.signature(function).bind(None, None)
    except TypeError:
        raise GraderError(f"python grader {target!r} must accept two arguments: (output, case)") from None
    except ValueError:  # some builtins have no signature; let the call decide
        pass
    return function  # type: ignore[no-any-return]


class PythonFunction(SampleGrader):
    """Calls ``func(output, case)`` and turns what it returns into a verdict."""

    name = "python"
    description = "Your function(output, case) decides: a bool, a score, (passed, why), a dict or a Verdict."
    blocking = True  # a user's function: it runs on a thread of its own, within the suite's grade_timeout
    shorthand = "function"
    example = 'python: "my_checks:is_polite"'

    class Params(GraderParams):
        """Parameters of ``python``. ``threshold`` decides pass for functions that return a score."""

        function: str = Field(min_length=3)
        threshold: float = Field(default=0.5, ge=0.0, le=1.0)

    def __init__(self, params: GraderParams) -> None:
        """Import the function once; a failure to import is a ``GraderError`` here, before any sample."""
        super().__init__(params)
        assert isinstance(params, PythonFunction.Params)
        self._target = params.function
        self._threshold = params.threshold
        self._function = load_function(params.function)

    @classmethod
    def check(cls, params: GraderParams) -> None:
        """Import the function when the suite loads (``GraderError`` naming the target if it cannot be)."""
        super().check(params)
        assert isinstance(params, PythonFunction.Params)
        load_function(params.function)

    def grade(self, output: str, case: Case) -> Verdict | Awaitable[Verdict]:
        """The function's verdict (an awaitable of it for an ``async def`` function)."""
        try:
            result = self._function(output, case)
        except GraderError:
            raise
        except Exception as exc:
            raise self._raised(exc) from exc
        if inspect.isawaitable(result):
            return self._await(result)
        return self._verdict(result)

    async def _await(self, pending: Awaitable[Any]) -> Verdict:
        try:
            result = await pending
        except GraderError:
            raise
        except Exception as exc:
            raise self._raised(exc) from exc
        return self._verdict(result)

    def _raised(self, exc: Exception) -> GraderError:
        return GraderError(f"python grader {self._target!r} raised {type(exc).__name__}: {exc}")

    def _score(self, value: Any, returned: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, Real) or math.isnan(float(value)):
            raise self._bad(returned, "a score must be a number in [0, 1]")
        score = float(value)
        if not 0.0 <= score <= 1.0:
            raise self._bad(returned, "a score must be in [0, 1]")
        return score

    def _bad(self, returned: Any, why: str = "") -> GraderError:
        detail = f"; {why}" if why else f"; return {_SHAPES}"
        shown = shorten(repr(returned), 80)
        return GraderError(f"python grader {self._target!r} returned {shown}{detail}")

    def _from_value(self, value: Any, explanation: str | None, returned: Any) -> Verdict:
        """A bool or a score, as a verdict."""
        if isinstance(value, bool):
            return Verdict(value, 1.0 if value else 0.0, explanation or f"{self._target} returned {value}")
        score = self._score(value, returned)
        passed = score >= self._threshold
        return Verdict(passed, score, explanation or f"score {score:g} (threshold {self._threshold:g})")

    def _verdict(self, returned: Any) -> Verdict:
        """What the function returned, as a verdict (``GraderError`` saying what came back if not one)."""
        if isinstance(returned, Verdict):
            passed, score, explanation, detail = returned
            if not isinstance(passed, bool) or not isinstance(explanation, str):
                raise self._bad(returned, "a Verdict needs (bool, score, str)")
            return Verdict(passed, self._score(score, returned), explanation, detail)
        if isinstance(returned, tuple):
            if len(returned) != 2 or not isinstance(returned[1], str):
                raise self._bad(returned, "a tuple must be (passed, explanation)")
            return self._from_value(returned[0], returned[1], returned)
        if isinstance(returned, dict):
            return self._from_dict(returned)
        if isinstance(returned, bool | Real):
            return self._from_value(returned, None, returned)
        raise self._bad(returned)

    def _from_dict(self, returned: dict[Any, Any]) -> Verdict:
        unknown = sorted(str(key) for key in returned if key not in {"passed", "score", "explanation"})
        if unknown:
            raise self._bad(returned, f"unknown keys {unknown}; a dict may have passed, score, explanation")
        passed, score = returned.get("passed"), returned.get("score")
        explanation = returned.get("explanation")
        if explanation is not None and not isinstance(explanation, str):
            raise self._bad(returned, "explanation must be a string")
        if passed is None and score is None:
            raise self._bad(returned, "a dict needs passed, score or both")
        if passed is not None and not isinstance(passed, bool):
            raise self._bad(returned, "passed must be a bool")
        if score is None:
            return self._from_value(passed, explanation, returned)
        verdict = self._from_value(score, explanation, returned)
        return verdict if passed is None else Verdict(passed, verdict.score, verdict.explanation)
