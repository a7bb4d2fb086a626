"""Graders on structure in an output: JSON (optionally against a JSON Schema) and numbers."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ConfigDict, Field, field_validator

from mendoza.config.yaml_source import read_limited, read_yaml
from mendoza.core import Case
from mendoza.errors import ConfigError, GraderError
from mendoza.graders.base import GraderParams, SampleGrader, Verdict
from mendoza.graders.text import clip, shorten

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

__all__ = ["Json", "Numeric", "extract_json", "find_number"]

_FENCE = re.compile(r"```[ \t]*(?:json|JSON)?[ \t]*\n(.*?)```", re.DOTALL)
_DECODER = json.JSONDecoder()

# A number as people and models write it: "-3", "+0.5", ".5", "1,234.5" (comma thousands), "2e3", "−3"
# (Unicode minus). A sign only counts when it does not follow a letter or digit, so "GPT-4" gives 4.
_NUMBER = re.compile(
    r"(?:(?<![\w.])[-+\u2212])?"
    r"(?:(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?|\.\d+)"
    r"(?:[eE][-+]?\d+)?"
)


def extract_json(text: str) -> Any:
    """The first JSON value in ``text``: the contents of a ```json fence if there is one that parses,
    else the first object or array that parses, else the whole text (``ValueError`` if nothing parses)."""
    for match in _FENCE.finditer(text):
        try:
            return json.loads(match.group(1))
        except ValueError:
            continue
    for index, char in enumerate(text):
        if char in "{[":
            try:
                return _DECODER.raw_decode(text, index)[0]
            except ValueError:
                continue
    return json.loads(text)


def _parse_number(text: str) -> float:
    return float(text.replace(",", "").replace("\u2212", "-"))


def find_number(text: str, *, extract: bool = True) -> float | None:
    """The first number in ``text`` (or, with ``extract=False``, the whole text as a number, a trailing
    ``%`` allowed); None when there is none. Percentages are plain numbers: "45%" is 45."""
    if extract:
        match = _NUMBER.search(text)
        return _parse_number(match.group(0)) if match else None
    stripped = text.strip().removesuffix("%").rstrip()
    return _parse_number(stripped) if _NUMBER.fullmatch(stripped) else None


def _show(number: float) -> str:
    """A number as a person would write it: 42 rather than 42.0, full precision otherwise."""
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return repr(number)


def _reason(exc: ValueError) -> str:
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    return str(exc)


def _hint(params: Json.Params, output: str) -> str:
    """Tell the author when JSON is there but surrounded by text that ``extract: true`` would skip."""
    if params.extract:
        return ""
    try:
        extract_json(output)
    except ValueError:
        return ""
    return "; it holds JSON inside text: set extract: true to accept that"


def _load_schema(source: dict[str, Any] | str) -> dict[str, Any]:
    if isinstance(source, dict):
        return source
    path = Path(source)
    try:
        text = read_limited(path).decode("utf-8")
    except OSError as exc:
        raise GraderError(f"json: cannot read schema file {source!r}: {exc.strerror or exc}") from None
    except (ConfigError, UnicodeDecodeError) as exc:
        raise GraderError(f"json: cannot read schema file {source!r}: {exc}") from None
    try:
        # A YAML schema is read with the same limits as a suite file (aliases, depth, duplicate keys).
        is_yaml = path.suffix.lower() in {".yaml", ".yml"}
        schema = read_yaml(path).data if is_yaml else json.loads(text)
    except Exception as exc:  # json's ValueError or RecursionError, or read_yaml's ConfigError
        first_line = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise GraderError(f"json: schema file {source!r} cannot be parsed: {first_line}") from None
    if not isinstance(schema, dict):
        kind = type(schema).__name__
        raise GraderError(f"json: schema file {source!r} must hold a JSON object, not {kind}")
    return schema


def _validator(source: dict[str, Any] | str) -> Validator:
    """A compiled validator for the schema (Draft 2020-12 unless its ``$schema`` names another draft)."""
    from jsonschema import exceptions, validators

    schema = _load_schema(source)
    where = f"schema file {source!r}" if isinstance(source, str) else "schema"
    cls = validators.validator_for(schema, default=validators.Draft202012Validator)
    try:
        cls.check_schema(schema)
    except exceptions.SchemaError as exc:
        raise GraderError(f"json: {where} is not a valid JSON Schema: {exc.message}") from None
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


class Json(SampleGrader):
    """The output is valid JSON, optionally found inside text, optionally valid against a JSON Schema."""

    name = "json"
    description = "Output is valid JSON (or, with extract: true, holds some), valid against schema if given."
    shorthand = None
    example = "json: {schema: {type: object, required: [answer]}}"

    class Params(GraderParams):
        """Parameters of ``json``. ``schema`` is a JSON Schema, or the path of a .json (or .yaml) file
        holding one, relative to the current directory."""

        model_config = ConfigDict(populate_by_name=True)

        extract: bool = False
        schema_: dict[str, Any] | str | None = Field(default=None, alias="schema")

    def __init__(self, params: GraderParams) -> None:
        """Compile the schema once; an unreadable or invalid schema is a ``GraderError`` here."""
        super().__init__(params)
        assert isinstance(params, Json.Params)
        self._validator = _validator(params.schema_) if params.schema_ is not None else None

    @classmethod
    def check(cls, params: GraderParams) -> None:
        """Read and compile the schema when the suite loads, so a bad schema file is one line, found early."""
        super().check(params)
        assert isinstance(params, Json.Params)
        if params.schema_ is not None:
            _validator(params.schema_)

    @classmethod
    def parse_params(cls, raw: Any) -> GraderParams:
        """As ``Grader.parse_params``; also ``json: true`` or a bare ``json:`` for the defaults."""
        if raw is True or raw is None:
            raw = {}
        return super().parse_params(raw)

    def grade(self, output: str, case: Case) -> Verdict:
        """Pass when the output parses (and, with a schema, validates)."""
        params = self.params
        assert isinstance(params, Json.Params)
        try:
            document = extract_json(output) if params.extract else json.loads(output)
        except ValueError as exc:
            explanation = f"not valid JSON ({_reason(exc)}): {clip(output, 60)}{_hint(params, output)}"
            return Verdict(False, 0.0, explanation)
        if self._validator is None:
            return Verdict(True, 1.0, "valid JSON")
        from jsonschema.exceptions import best_match

        error = best_match(self._validator.iter_errors(document))
        if error is None:
            return Verdict(True, 1.0, "valid JSON, matches schema")
        return Verdict(False, 0.0, f"schema error at {error.json_path}: {shorten(error.message, 120)}")


class Numeric(SampleGrader):
    """The (first) number in the output is within a tolerance of ``value``."""

    name = "numeric"
    description = "First number in the output equals value, within tolerance or relative_tolerance."
    example = 'numeric: {value: "{{ expected }}", tolerance: 0.01}'

    class Params(GraderParams):
        """Parameters of ``numeric``. With neither tolerance, numbers must be equal up to float rounding;
        with both, being within either is enough."""

        value: float | str
        tolerance: float = Field(default=0.0, ge=0)
        relative_tolerance: float | None = Field(default=None, ge=0)
        extract: bool = True

        @field_validator("value", mode="before")
        @classmethod
        def _a_number(cls, value: Any) -> Any:
            if isinstance(value, bool):
                raise ValueError("must be a number, not a boolean")
            if isinstance(value, str) and "{" not in value and find_number(value, extract=False) is None:
                raise ValueError(f"{value!r} is not a number (nor a template such as '{{{{ expected }}}}')")
            return value

    def _expected(self, case: Case) -> float:
        value = self.param("value", case)
        if isinstance(value, int | float) and not isinstance(value, bool):
            number: float | None = float(value)
        else:
            number = find_number(str(value), extract=False) if value is not None else None
        if number is None or math.isnan(number):
            raise GraderError(f"numeric: value {clip(str(value))} is not a number")
        return number

    def grade(self, output: str, case: Case) -> Verdict:
        """Pass when ``|found - value| <= max(tolerance, relative_tolerance * |value|)``."""
        params = self.params
        assert isinstance(params, Numeric.Params)
        expected = self._expected(case)
        found = find_number(output, extract=params.extract)
        if found is None:
            where = "in output" if params.extract else "(the whole output is not a number)"
            return Verdict(False, 0.0, f"no number found {where}: {clip(output)}")
        allowed = max(params.tolerance, (params.relative_tolerance or 0.0) * abs(expected))
        within = abs(found - expected) <= allowed or math.isclose(found, expected, rel_tol=1e-9)
        band = f" ± {_show(allowed)}" if allowed else ""
        summary = f"found {_show(found)}, expected {_show(expected)}{band}"
        return Verdict(within, 1.0 if within else 0.0, summary)
