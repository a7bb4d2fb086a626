"""Graders on the text of an output: equality, substrings, regular expressions and length.

Comparisons share one normalisation (``normalise``): Unicode NFC always, then optionally punctuation removed,
case folded and whitespace stripped, collapsed or removed. ``equals`` is exact by default (ends stripped);
the ``contains`` family ignores case and collapses whitespace by default, because a person who writes
``contains: billing`` means the word, however the model capitalised or wrapped it.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any, ClassVar, Literal

from pydantic import Field, field_validator, model_validator

from mendoza.core import Case
from mendoza.errors import GraderError
from mendoza.graders.base import GraderParams, SampleGrader, Verdict

__all__ = [
    "Contains",
    "ContainsAll",
    "ContainsAny",
    "Equals",
    "Length",
    "Regex",
    "WhitespaceMode",
    "clip",
    "normalise",
    "shorten",
]

WhitespaceMode = Literal["strip", "collapse", "none", "all"]
RegexFlag = Literal["ignorecase", "multiline", "dotall"]
Scalar = str | int | float | bool

_WHITESPACE_RUN = re.compile(r"\s+")
_FLAG_BITS: dict[str, re.RegexFlag] = {
    "ignorecase": re.IGNORECASE,
    "multiline": re.MULTILINE,
    "dotall": re.DOTALL,
}


def shorten(text: str, limit: int = 80) -> str:
    """``text`` cut to at most ``limit`` characters, with an ellipsis when it was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def clip(text: str, limit: int = 80) -> str:
    """``text`` quoted for an explanation, cut to about ``limit`` characters with an ellipsis."""
    return repr(shorten(text, limit))


def normalise(
    text: str,
    *,
    ignore_case: bool = False,
    ignore_whitespace: WhitespaceMode = "strip",
    ignore_punctuation: bool = False,
) -> str:
    """``text`` as the text graders compare it: NFC, then without punctuation (every Unicode ``P*``
    character), case-folded, and with whitespace stripped at the ends, collapsed, kept or removed."""
    text = unicodedata.normalize("NFC", text)
    if ignore_punctuation:
        text = "".join(char for char in text if not unicodedata.category(char).startswith("P"))
    if ignore_case:
        text = text.casefold()
    if ignore_whitespace == "strip":
        text = text.strip()
    elif ignore_whitespace == "collapse":
        text = _WHITESPACE_RUN.sub(" ", text).strip()
    elif ignore_whitespace == "all":
        text = _WHITESPACE_RUN.sub("", text)
    return text


def _as_text(value: Any, grader: str, param: str = "value") -> str:
    """A rendered parameter as text (booleans as ``true``/``false``, as YAML and JSON write them); None (an
    absent ``expected``) or a container is a ``GraderError``."""
    if value is None:
        raise GraderError(f"{grader}: {param} is empty (None); set it, or give the case an expected value")
    if isinstance(value, list | tuple | dict | set):
        hint = "; for a list use contains_any or contains_all" if grader.startswith("contains") else ""
        raise GraderError(f"{grader}: {param} must be a single value, not {clip(str(value))}{hint}")
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class _Normalised(GraderParams):
    """Normalisation options shared by the text comparisons."""

    ignore_case: bool = False
    ignore_whitespace: WhitespaceMode = "strip"
    ignore_punctuation: bool = False


class _TextGrader(SampleGrader):
    """A grader whose parameters include the normalisation options."""

    def _normalise(self, text: str) -> str:
        params = self.params
        assert isinstance(params, _Normalised)
        return normalise(
            text,
            ignore_case=params.ignore_case,
            ignore_whitespace=params.ignore_whitespace,
            ignore_punctuation=params.ignore_punctuation,
        )

    def _needle(self, value: Any) -> str:
        """One normalised expectation; an expectation that normalises to nothing is an error."""
        needle = self._normalise(_as_text(value, self.name))
        if not needle:
            shown = clip(str(value))
            raise GraderError(f"{self.name}: nothing to look for ({shown} is empty once normalised)")
        return needle


class Equals(_TextGrader):
    """The output equals ``value`` once both are normalised."""

    name = "equals"
    description = "Output equals value, ends stripped; can also ignore case, whitespace or punctuation."
    example = 'equals: "{{ expected }}"'

    class Params(_Normalised):
        """Parameters of ``equals``. Numbers are compared as their text, booleans as ``true``/``false``."""

        value: Scalar

    def grade(self, output: str, case: Case) -> Verdict:
        """Pass when the normalised output and the normalised value are the same text."""
        value = _as_text(self.param("value", case), self.name)
        if self._normalise(output) == self._normalise(value):
            return Verdict(True, 1.0, f"output equals {clip(value)}")
        return Verdict(False, 0.0, f"expected {clip(value)}, got {clip(output)}")


class _ContainsParams(_Normalised):
    """Normalisation for the ``contains`` family: case-insensitive and whitespace-collapsed by default."""

    ignore_case: bool = True
    ignore_whitespace: WhitespaceMode = "collapse"


class Contains(_TextGrader):
    """The output contains ``value``."""

    name = "contains"
    description = "Output contains value, ignoring case and runs of whitespace by default."
    example = 'contains: "{{ expected }}"'

    class Params(_ContainsParams):
        """Parameters of ``contains``."""

        value: Scalar

    def grade(self, output: str, case: Case) -> Verdict:
        """Pass when the normalised value occurs in the normalised output."""
        value = self.param("value", case)
        if self._needle(value) in self._normalise(output):
            return Verdict(True, 1.0, f"found {clip(str(value))}")
        return Verdict(False, 0.0, f"expected {clip(str(value))} in output, not found")


def _expectations(value: Any, grader: str) -> list[Any]:
    """A rendered list parameter as a flat list (a lone value counts as a list of one)."""
    if value is None:
        raise GraderError(f"{grader}: value is empty (None); set it, or give the case an expected list")
    items = value if isinstance(value, list | tuple) else [value]
    flat: list[Any] = []
    for item in items:
        flat.extend(item if isinstance(item, list | tuple) else [item])
    if not flat:
        raise GraderError(f"{grader}: value is an empty list; give at least one string to look for")
    return flat


class _ListParams(_ContainsParams):
    """A list of expectations (or one template that renders to a list)."""

    value: list[Scalar] | str


class ContainsAny(_TextGrader):
    """The output contains at least one of ``value``."""

    name = "contains_any"
    description = "Output contains at least one of a list of strings (ignores case by default)."
    example = 'contains_any: ["refund", "money back"]'
    Params: ClassVar[type[GraderParams]] = _ListParams

    def grade(self, output: str, case: Case) -> Verdict:
        """Pass when any expectation occurs in the output."""
        items = _expectations(self.param("value", case), self.name)
        haystack = self._normalise(output)
        for item in items:
            if self._needle(item) in haystack:
                return Verdict(True, 1.0, f"found {clip(str(item))}")
        shown = ", ".join(clip(str(item), 40) for item in items[:5]) + (", …" if len(items) > 5 else "")
        return Verdict(False, 0.0, f"none of [{shown}] found in output")


class ContainsAll(_TextGrader):
    """The output contains every one of ``value``; the score is the fraction found."""

    name = "contains_all"
    description = "Output contains every string of a list; score = fraction found (ignores case by default)."
    example = 'contains_all: ["order number", "refund"]'
    Params: ClassVar[type[GraderParams]] = _ListParams

    def grade(self, output: str, case: Case) -> Verdict:
        """Pass when every expectation occurs; score = found / expected."""
        items = _expectations(self.param("value", case), self.name)
        haystack = self._normalise(output)
        missing = [item for item in items if self._needle(item) not in haystack]
        found = len(items) - len(missing)
        if not missing:
            return Verdict(True, 1.0, f"found all {len(items)}")
        shown = ", ".join(clip(str(item), 40) for item in missing[:5]) + (", …" if len(missing) > 5 else "")
        return Verdict(False, found / len(items), f"found {found}/{len(items)}; missing {shown}")


@lru_cache(maxsize=1024)
def _compile(pattern: str, flags: int) -> re.Pattern[str]:
    try:
        return re.compile(pattern, flags)
    except re.error as exc:
        raise GraderError(f"regex: invalid pattern {clip(pattern)}: {exc}") from None


def _is_template(text: str) -> bool:
    return "{{" in text or "{%" in text


class Regex(SampleGrader):
    """The output matches a regular expression (anywhere, or as a whole)."""

    name = "regex"
    description = "Output matches a regular expression (search anywhere, or fullmatch the whole output)."
    shorthand = "pattern"
    example = r"regex: '^\s*(yes|no)\b'"

    class Params(GraderParams):
        """Parameters of ``regex``. A pattern without a template is checked when the suite loads.
        In YAML, write patterns in single quotes, which leave backslashes alone (``'\\d+'``)."""

        pattern: str
        flags: list[RegexFlag] = Field(default_factory=list)
        mode: Literal["search", "fullmatch"] = "search"

        @field_validator("pattern")
        @classmethod
        def _pattern_compiles(cls, pattern: str) -> str:
            if not _is_template(pattern):
                try:
                    re.compile(pattern)
                except re.error as exc:
                    raise ValueError(f"invalid regex pattern {clip(pattern)}: {exc}") from None
            return pattern

    def grade(self, output: str, case: Case) -> Verdict:
        """Pass when the pattern is found (``search``) or matches the whole output (``fullmatch``)."""
        params = self.params
        assert isinstance(params, Regex.Params)
        # Only a pattern with a template is rendered, so ``{#`` or ``{2,3}`` in a regex never meet Jinja.
        raw = self.param("pattern", case) if _is_template(params.pattern) else params.pattern
        pattern = _as_text(raw, self.name, "pattern")
        flags = 0
        for flag in params.flags:
            flags |= _FLAG_BITS[flag]
        compiled = _compile(pattern, flags)
        if params.mode == "fullmatch":
            if compiled.fullmatch(output):
                return Verdict(True, 1.0, f"output fully matches {clip(pattern)}")
            return Verdict(False, 0.0, f"output does not fully match {clip(pattern)}: {clip(output)}")
        match = compiled.search(output)
        if match:
            return Verdict(True, 1.0, f"matched {clip(match.group(0), 60)} at {match.start()}")
        return Verdict(False, 0.0, f"pattern {clip(pattern)} not found in output")


class Length(SampleGrader):
    """The output's length, in characters or words, lies within bounds."""

    name = "length"
    description = "Output length (chars or words, ends stripped) is within min and/or max, inclusive."
    shorthand = None
    example = "length: {max: 280, unit: chars}"

    class Params(GraderParams):
        """Parameters of ``length``: at least one of ``min`` and ``max``."""

        unit: Literal["chars", "words"] = "chars"
        min: int | None = Field(default=None, ge=0)
        max: int | None = Field(default=None, ge=0)

        @field_validator("min", "max", mode="before")
        @classmethod
        def _no_bool(cls, value: Any) -> Any:
            if isinstance(value, bool):
                raise ValueError("must be a whole number, not a boolean")
            return value

        @model_validator(mode="after")
        def _bounds(self) -> Length.Params:
            if self.min is None and self.max is None:
                raise ValueError("length needs min, max or both")
            if self.min is not None and self.max is not None and self.min > self.max:
                raise ValueError(f"length min ({self.min}) is greater than max ({self.max})")
            return self

    def grade(self, output: str, case: Case) -> Verdict:
        """Pass when ``min <= length <= max`` (a missing bound is open)."""
        params = self.params
        assert isinstance(params, Length.Params)
        text = output.strip()
        size = len(text.split()) if params.unit == "words" else len(text)
        low, high = params.min, params.max
        if low is not None and size < low:
            return Verdict(False, 0.0, f"{size} {params.unit}, fewer than min {low}")
        if high is not None and size > high:
            return Verdict(False, 0.0, f"{size} {params.unit}, more than max {high}")
        bounds = f"[{low if low is not None else 0}, {high if high is not None else '∞'}]"
        return Verdict(True, 1.0, f"{size} {params.unit}, within {bounds}")
