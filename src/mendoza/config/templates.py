"""The one way to build a Jinja2 environment for templates a suite's author wrote (prompts, system prompts,
grader parameters, judge prompts, mock outputs).

Every such environment is a ``jinja2.sandbox.SandboxedEnvironment`` (no ``__globals__``, no ``os``: running
code is what ``python:`` targets are for) that also refuses to build huge values: a string or list repeated
or joined past ``MAX_TEMPLATE_SIZE``, a power with a number too large to print, a call or filter given a
count past the limit (``'x'.ljust(10**10)``, ``center``, ``batch``), a format string that pads past it,
nested ``range()`` loops past ``MAX_RANGE_ITEMS`` numbers in all, and a rendered text longer than the limit.
Each refusal is a ``jinja2.exceptions.SecurityError`` (a ``jinja2.TemplateError``), raised before the
memory is allocated.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from typing import Any

import jinja2
from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment, safe_range

__all__ = ["MAX_RANGE_ITEMS", "MAX_TEMPLATE_SIZE", "user_environment"]

#: The most characters (or list items) a template may build in one value or render in all.
MAX_TEMPLATE_SIZE = 10_000_000
#: The most numbers all the ``range()`` calls of one render may give (nested loops multiply).
MAX_RANGE_ITEMS = 1_000_000
#: The most bits an integer a template computes may have (Python prints at most 4,300 digits).
_MAX_INT_BITS = 14_000
_NUMBERS = re.compile(r"\d+")
_SIZED = (str, list, tuple, bytes)


def _too_big(count: int) -> SecurityError:
    return SecurityError(f"the template would build a value of {count:,} items (the limit is {MAX_TEMPLATE_SIZE:,})")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_format_string(text: Any) -> None:
    """A ``%`` or ``str.format`` pattern may not pad or repeat past the limit (``'%9999999999s'``)."""
    if isinstance(text, str):
        for digits in _NUMBERS.findall(text):
            if len(digits) > 8 or int(digits) > MAX_TEMPLATE_SIZE:
                raise SecurityError(f"the template's format string asks for a width of {digits} (too large)")


def _check_count(value: Any) -> None:
    if _is_int(value) and abs(value) > MAX_TEMPLATE_SIZE:
        raise SecurityError(f"the template passes {value} to a call or filter (the limit is {MAX_TEMPLATE_SIZE:,})")


def _check_binop(symbol: str, left: Any, right: Any) -> None:
    if symbol == "*":
        for sequence, times in ((left, right), (right, left)):
            if isinstance(sequence, _SIZED) and _is_int(times) and len(sequence) * times > MAX_TEMPLATE_SIZE:
                raise _too_big(len(sequence) * times)
        if _is_int(left) and _is_int(right) and left.bit_length() + right.bit_length() > _MAX_INT_BITS:
            raise SecurityError("the template multiplies numbers too large to print")
    elif symbol == "+":
        if isinstance(left, _SIZED) and isinstance(right, _SIZED) and len(left) + len(right) > MAX_TEMPLATE_SIZE:
            raise _too_big(len(left) + len(right))
    elif symbol == "**":
        if _is_int(left) and _is_int(right) and abs(left) > 1 and right * abs(left).bit_length() > _MAX_INT_BITS:
            raise SecurityError(f"the template raises {left} to the power {right}: too large to print")
    elif symbol == "%":
        _check_format_string(left)


def _bounded_concat(parts: Iterable[str]) -> str:
    """``"".join`` that stops as soon as the rendered text passes the limit."""
    kept: list[str] = []
    size = 0
    for part in parts:
        size += len(part)
        if size > MAX_TEMPLATE_SIZE:
            raise SecurityError(f"the rendered template is longer than {MAX_TEMPLATE_SIZE:,} characters")
        kept.append(part)
    return "".join(kept)


@jinja2.pass_context
def _budgeted_range(context: jinja2.runtime.Context, *args: int) -> range:
    """The sandbox's ``range``, with one budget for a whole render: ``range(100000)`` inside a loop over
    ``range(100000)`` would run ten billion times (the render's evaluation context keeps the count)."""
    numbers = safe_range(*args)
    used = getattr(context.eval_ctx, "mendoza_range_items", 0) + len(numbers)
    if used > MAX_RANGE_ITEMS:
        raise SecurityError(f"the template's loops ask for more than {MAX_RANGE_ITEMS:,} numbers from range()")
    context.eval_ctx.mendoza_range_items = used  # type: ignore[attr-defined]
    return numbers


def _guard_filter(function: Callable[..., Any]) -> Callable[..., Any]:
    """A filter whose count arguments (``center(10**10)``, ``batch(...)``) are bounded; its first
    argument, the value filtered, is left alone, except the pattern given to ``format``."""
    skip = 2 if hasattr(function, "jinja_pass_arg") else 1
    is_format = getattr(function, "__name__", "") == "do_format"

    @functools.wraps(function)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        for value in (*args[skip:], *kwargs.values()):
            _check_count(value)
        if is_format and len(args) >= skip:
            _check_format_string(args[skip - 1])
        return function(*args, **kwargs)

    return guarded


class _BoundedCodeGenerator(CodeGenerator):
    """Compiles ``a ~ b`` so that its result is checked (``{% set x = x ~ x %}`` in a loop doubles a string)."""

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.checked_text(")
        super().visit_Concat(node, frame)
        self.write(")")


class _BoundedSandbox(SandboxedEnvironment):
    """The sandbox, plus the size limits of this module."""

    intercepted_binops = frozenset({"*", "+", "**", "%"})
    concat = staticmethod(_bounded_concat)
    code_generator_class = _BoundedCodeGenerator

    @staticmethod
    def checked_text(text: str) -> str:
        """A concatenation's result, refused past the limit (so a loop of doublings stops at twice it)."""
        if len(text) > MAX_TEMPLATE_SIZE:
            raise _too_big(len(text))
        return text

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.globals.pop("lipsum", None)  # lipsum(n) generates text by the megabyte; no prompt needs it
        self.globals["range"] = _budgeted_range
        self.filters = {name: _guard_filter(function) for name, function in self.filters.items()}

    def call_binop(self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any) -> Any:
        """Refuse an operation whose result would be huge, before computing it."""
        _check_binop(operator, left, right)
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: jinja2.runtime.Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        """Refuse a call given a count past the limit (``'x'.ljust(10**10)``)."""
        for value in (*args, *kwargs.values()):
            _check_count(value)
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        """``str.format`` as the sandbox wraps it, refusing a width past the limit."""
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:
            _check_format_string(value.__self__)
        return wrapped


def user_environment(**options: Any) -> jinja2.Environment:
    """A sandboxed, size-bounded environment for user templates. ``options`` are passed to Jinja2
    (``undefined``, ``keep_trailing_newline``...); undefined names are an error unless told otherwise."""
    options.setdefault("undefined", jinja2.StrictUndefined)
    options.setdefault("autoescape", False)
    return _BoundedSandbox(**options)

