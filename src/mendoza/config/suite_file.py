"""Suite files (YAML) -> a validated ``Suite``, every mistake reported as one ``file:line: what`` line."""

from __future__ import annotations

import difflib
import re
from pathlib import Path
from typing import Annotated, Any

import jinja2
import jinja2.meta
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mendoza.calls import Provider
from mendoza.config.datasets import case_from_mapping, load_cases_file
from mendoza.config.grader_specs import parse_grader_entries
from mendoza.config.templates import user_environment
from mendoza.config.yaml_source import YamlDocument, read_limited, read_yaml
from mendoza.core import (
    Case,
    ErrorPolicy,
    HumanReview,
    Pricing,
    Suite,
    Thresholds,
    ToolSpec,
    Variant,
    provider_name_of,
)
from mendoza.errors import ConfigError, MendozaError
from mendoza.registry import provider_class

__all__ = ["DEFAULT_MODEL", "load_suite", "suite_from_document"]

DEFAULT_MODEL = "local/gemma-3-270m"


#: A number, never a bool (``true`` is not 1.0); a whole number is fine.
_StrictFloat = Annotated[float, Field(strict=True)]


class _VariantEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    model: str = DEFAULT_MODEL
    #: A model matrix: one variant per model, ids ``<id>@<model name>`` (``model_matrix``).
    models: list[str] | None = None
    prompt: str | None = None
    prompt_file: str | None = None
    system: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    base_url: str | None = None
    api_key_env: str | None = None
    concurrency: int | None = Field(default=None, ge=1, le=1024, strict=True)
    timeout: float | None = Field(default=None, gt=0, strict=True)
    pricing: Pricing | None = None
    tools: list[ToolSpec] = Field(default_factory=list)


class _SuiteEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    suite: str
    description: str = ""
    cases: list[Any] | str
    variants: list[_VariantEntry] = Field(min_length=1)
    max_retry_wait: float = Field(default=60.0, gt=0)
    grade_timeout: float = Field(default=300.0, gt=0, strict=True)
    graders: list[Any] = Field(default_factory=list)
    # Strict: YAML's ``repeats: true`` or ``seed: 1.5`` is a mistake, not 1.
    repeats: int = Field(default=1, ge=1, strict=True)
    thresholds: Thresholds = Field(default_factory=Thresholds)
    band_edges: tuple[_StrictFloat, _StrictFloat, _StrictFloat] = (0.60, 0.90, 0.99)
    confidence: float = Field(default=0.95, gt=0.5, lt=1.0, strict=True)
    errors: ErrorPolicy = "fail"
    seed: int = Field(default=0, strict=True)
    timeout: float = Field(default=120.0, gt=0, strict=True)
    max_retries: int = Field(default=3, ge=0, strict=True)
    cache: bool = Field(default=True, strict=True)
    human: HumanReview | None = None

    @field_validator("thresholds", mode="before")
    @classmethod
    def _no_booleans_for_rates(cls, value: Any) -> Any:
        if isinstance(value, dict):
            for key in ("min_pass_rate", "max_regression", "max_error_rate"):
                if isinstance(value.get(key), bool):
                    raise ValueError(f"thresholds.{key} must be a rate between 0 and 1, not a boolean")
        return value


def _known_keys(location: tuple[Any, ...]) -> list[str]:
    model: type[BaseModel] = _SuiteEntry
    for part in location[:-1]:
        if part == "variants":
            model = _VariantEntry
        elif part == "thresholds":
            model = Thresholds
        elif part == "pricing":
            model = Pricing
        elif part == "tools":
            model = ToolSpec
        elif part == "human":
            model = HumanReview
    return list(model.model_fields)


def _first_error(exc: ValidationError) -> Any:
    """The error to report: an unknown key first (a misspelt required key also reports it missing, and the
    unknown key, with its did-you-mean hint, is what tells the author what to fix)."""
    errors = exc.errors()
    return next((error for error in errors if error["type"] == "extra_forbidden"), errors[0])


def _data_location(location: tuple[Any, ...], data: Any, missing: bool = False) -> tuple[Any, ...]:
    """``location`` without the union-member tags pydantic inserts (``cases.list[any]``): only the keys and
    indexes found in the data are kept, plus, for a ``missing`` key, the last part that names it."""
    kept: list[Any] = []
    node = data
    for position, part in enumerate(location):
        is_key = isinstance(node, dict) and part in node
        is_index = isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node)
        if is_key or is_index:
            node = node[part]
        elif missing and position == len(location) - 1 and isinstance(node, dict):
            pass  # a missing key: keep its name
        else:
            continue
        kept.append(part)
    return tuple(kept)


def _message(error: Any) -> str:
    """Pydantic's message, without the ``Value error, `` its validators' messages start with."""
    if error["type"] == "model_type":
        return "must be a mapping"
    return str(error["msg"]).removeprefix("Value error, ")


def _validation_message(exc: ValidationError, document: YamlDocument) -> ConfigError:
    first = _first_error(exc)
    location = _data_location(tuple(first["loc"]), document.data, missing=first["type"] == "missing")
    dotted = ".".join(str(part) for part in location)
    if first["type"] == "extra_forbidden":
        key = str(location[-1])
        close = difflib.get_close_matches(key, _known_keys(location), n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return ConfigError(f"unknown key '{dotted}'{hint}", where=document.where(location))
    if first["type"] == "missing":
        return ConfigError(f"missing required key '{dotted}'", where=document.where(location[:-1]))
    return ConfigError(f"'{dotted}': {_message(first)}", where=document.where(location))


def _load_cases(entry: _SuiteEntry, document: YamlDocument) -> tuple[Case, ...]:
    if isinstance(entry.cases, str):
        path = (document.path.parent / entry.cases).resolve()
        if not path.is_file():
            raise ConfigError(f"cases file '{entry.cases}' not found", where=document.where(("cases",)))
        cases = load_cases_file(path)
    else:
        cases = [
            case_from_mapping(row, f"case-{index + 1}", document.where(("cases", index)))
            for index, row in enumerate(entry.cases)
        ]
    if not cases:
        from_file = isinstance(entry.cases, str)
        what = f"the cases file '{entry.cases}' has no cases" if from_file else "the suite has no cases"
        raise ConfigError(what, where=document.where(("cases",)))
    seen: set[str] = set()
    for index, case in enumerate(cases):
        if case.id in seen:
            # An inline case is located by its own line; a case from a file by the suite's 'cases' line.
            location: tuple[str | int, ...] = ("cases",) if isinstance(entry.cases, str) else ("cases", index)
            raise ConfigError(f"duplicate case id '{case.id}'", where=document.where(location))
        seen.add(case.id)
    return tuple(cases)


_ENV = user_environment()


def _check_template(
    text: str, cases: tuple[Case, ...], where: str, what: str, file: Path | None = None
) -> None:
    """A prompt template must parse and may only use names every case defines. A template read from
    ``file`` has its syntax errors located in that file."""
    try:
        names = jinja2.meta.find_undeclared_variables(_ENV.parse(text))
    except jinja2.TemplateSyntaxError as exc:
        if file is not None:
            where = f"{file}:{exc.lineno}"
        message = f"{what}: template syntax error on its line {exc.lineno}: {exc.message}"
        raise ConfigError(message, where=where) from None
    names -= set(_ENV.globals)
    for case in cases:
        missing = sorted(names - set(case.template_context()))
        if missing:
            available = ", ".join(sorted(case.vars)) or "none"
            raise ConfigError(
                f"{what} uses {{{{ {missing[0]} }}}}, which case '{case.id}' does not define "
                f"(its vars: {available})",
                where=where,
            )


def _check_template_if_set(
    text: str | None, cases: tuple[Case, ...], where: str, what: str, file: Path | None = None
) -> None:
    if text is not None:
        _check_template(text, cases, where, what, file)


def _check_tools(entry: _VariantEntry, index: int, document: YamlDocument) -> None:
    """Each tool's name is unique in its variant and its parameters are a JSON Schema of an object (what
    OpenAI's and Anthropic's APIs accept)."""
    import jsonschema

    seen: set[str] = set()
    for position, tool in enumerate(entry.tools):
        where = document.where(("variants", index, "tools", position))
        what = f"variant '{entry.id}': tool '{tool.name}'"
        if tool.name in seen:
            raise ConfigError(f"{what} is declared twice", where=where)
        seen.add(tool.name)
        if tool.parameters.get("type") != "object":
            message = f"{what}: 'parameters' must be a JSON Schema of an object (type: object, properties: ...)"
            raise ConfigError(message, where=where)
        try:
            jsonschema.validators.validator_for(tool.parameters).check_schema(tool.parameters)
        except jsonschema.SchemaError as exc:
            path = "/".join(str(part) for part in exc.absolute_path)
            at = f" at '{path}'" if path else ""
            reason = " ".join(exc.message.split())
            reason = reason if len(reason) <= 200 else reason[:197] + "..."
            message = f"{what}: 'parameters' is not a valid JSON Schema{at}: {reason}"
            raise ConfigError(message, where=where) from None


#: What a derived variant id keeps of a model's name: letters, digits and ``._:+-``; any run of other
#: characters (``/``, spaces, controls, markup) becomes one ``-``.
_UNSAFE_IN_ID = re.compile(r"[^A-Za-z0-9._:+-]+")
#: The longest model part of a derived id (the rest is cut).
_SUFFIX_CHARS = 80


def _safe_suffix(text: str) -> str:
    return _UNSAFE_IN_ID.sub("-", text).strip("-")[:_SUFFIX_CHARS].strip("-")


def _matrix_suffix(model: str) -> str:
    """The part of a derived variant id that names ``model``: its model name (``gemma-3-270m`` for
    ``local/gemma-3-270m``, ``app:answer`` for ``python:app:answer``), or the whole model string when it has
    none (``echo``), made safe (``_UNSAFE_IN_ID``) and at most ``_SUFFIX_CHARS`` long; never empty."""
    name = Variant(id="-", model=model).model_name or model
    return _safe_suffix(name) or _safe_suffix(model) or "model"


def _matrix_ids(entry: _VariantEntry, index: int, document: YamlDocument) -> list[tuple[str, str]]:
    """``(model, id)`` for each model of a variant's ``models``: ``<id>@<_matrix_suffix(model)>``; where two
    different models share a model name (``openai/x`` and ``anthropic/x``) both use their whole model string
    instead. A model listed twice, or two that still expand to one id, is a ``ConfigError`` on the line of
    the second."""
    assert entry.models is not None
    seen: dict[str, int] = {}
    for position, model in enumerate(entry.models):
        if model in seen:
            raise ConfigError(
                f"variant '{entry.id}' lists model '{model}' twice in 'models' (its entries {seen[model] + 1} "
                f"and {position + 1}); keep one",
                where=document.where(("variants", index, "models", position)),
            )
        seen[model] = position
    suffixes = [_matrix_suffix(model) for model in entry.models]
    shared = {suffix for suffix in suffixes if suffixes.count(suffix) > 1}
    expanded: list[tuple[str, str]] = []
    taken: dict[str, str] = {}
    for position, (model, suffix) in enumerate(zip(entry.models, suffixes, strict=True)):
        if suffix in shared:
            suffix = _safe_suffix(model) or suffix
        variant_id = f"{entry.id}@{suffix}"
        if variant_id in taken:
            raise ConfigError(
                f"variant '{entry.id}': models '{taken[variant_id]}' and '{model}' both expand to the id "
                f"'{variant_id}'; give one of them a variant of its own (with 'model:' and an id)",
                where=document.where(("variants", index, "models", position)),
            )
        taken[variant_id] = model
        expanded.append((model, variant_id))
    return expanded


def _variants(
    entry: _VariantEntry, index: int, cases: tuple[Case, ...], document: YamlDocument
) -> list[tuple[Variant, str]]:
    """The variants of one entry, each with the line its model is on: one, or one per model of a model matrix
    (``models: [a, b]``, ids ``<id>@<model name>``, every other field the same)."""
    models_where = document.where(("variants", index, "models"))
    if entry.models is not None and "model" in entry.model_fields_set:
        message = f"variant '{entry.id}' sets both 'model' and 'models'; keep one ('models' runs it on each model)"
        raise ConfigError(message, where=models_where)
    if entry.models is not None and not entry.models:
        message = f"variant '{entry.id}': 'models' is empty; list one model or more, e.g. models: [echo, mock]"
        raise ConfigError(message, where=models_where)
    where = document.where(("variants", index))
    prompt = entry.prompt
    prompt_path: Path | None = None
    if entry.prompt_file is not None:
        if prompt is not None:
            message = f"variant '{entry.id}' sets both 'prompt' and 'prompt_file'; keep one"
            raise ConfigError(message, where=where)
        prompt_path = document.path.parent / entry.prompt_file
        try:
            prompt = read_limited(prompt_path).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ConfigError(
                f"variant '{entry.id}': prompt_file '{entry.prompt_file}' is not UTF-8 text: {exc.reason}",
                where=where,
            ) from None
        except OSError:
            message = f"variant '{entry.id}': prompt_file '{entry.prompt_file}' not found"
            raise ConfigError(message, where=where) from None
        where = str(prompt_path)
    _check_tools(entry, index, document)
    if entry.models is None:
        chosen = [(entry.model, entry.id, document.where(("variants", index, "model")))]
    else:
        chosen = [
            (model, variant_id, document.where(("variants", index, "models", position)))
            for position, (model, variant_id) in enumerate(_matrix_ids(entry, index, document))
        ]
    conversations = all(case.messages for case in cases) and bool(cases)
    needs_prompt = prompt is None and not conversations
    for model, variant_id, _ in chosen:
        provider = _provider_of(model)
        if needs_prompt and provider is not None and provider.needs_prompt:
            raise ConfigError(
                f"variant '{variant_id}' needs a 'prompt' or a 'prompt_file' (or cases with 'messages')", where=where
            )
    _check_template_if_set(prompt, cases, where, f"variant '{entry.id}' prompt", prompt_path)
    system_where = document.where(("variants", index))
    _check_template_if_set(entry.system, cases, system_where, f"variant '{entry.id}' system")
    fields = entry.model_dump(exclude={"prompt_file", "models"})
    fields["prompt"] = prompt
    variants: list[tuple[Variant, str]] = []
    for model, variant_id, model_where in chosen:
        variant = Variant.model_validate({**fields, "id": variant_id, "model": model})
        provider = _provider_of(model)
        if provider is not None:
            variant = provider.with_paths_from(variant, document.path.parent)
        _check_provider(variant, model_where)
        variants.append((variant, model_where))
    return variants


def _provider_of(model: str) -> type[Provider] | None:
    """The provider class a variant's model names (None when the name is unknown: ``_check_provider`` then
    says so in one line)."""
    try:
        cls: type[Provider] = provider_class(provider_name_of(model))
        return cls
    except MendozaError:
        return None


def _check_provider(variant: Variant, where: str) -> None:
    """The provider exists and accepts the variant: a ``python:`` app imports, a mock's script parses. An
    author's module that raises on import, even ``SystemExit``, is reported here as one line."""
    try:
        provider_class(variant.provider_name).check(variant)
    except ConfigError as exc:
        raise ConfigError(exc.detail if exc.where is None else str(exc), where=where) from None
    except MendozaError as exc:
        raise ConfigError(f"variant '{variant.id}': {exc}", where=where) from None
    except KeyboardInterrupt:
        raise
    except BaseException as exc:
        message = f"variant '{variant.id}': model '{variant.model}' fails to load: {type(exc).__name__}: {exc}"
        raise ConfigError(message, where=where) from None


def _thresholds_over(thresholds: Thresholds, ids: list[str], matrices: dict[str, list[str]]) -> Thresholds:
    """``thresholds`` with a model matrix's id in ``variants`` standing for every variant it expands to."""
    if not thresholds.variants or not matrices:
        return thresholds
    named: list[str] = []
    for name in thresholds.variants:
        named.extend(matrices[name] if name in matrices and name not in ids else [name])
    return thresholds.model_copy(update={"variants": tuple(dict.fromkeys(named))})


def suite_from_document(document: YamlDocument) -> Suite:
    """Validate a parsed suite file and build the ``Suite`` (cases loaded, templates checked)."""
    if not isinstance(document.data, dict):
        message = "a suite file must be a mapping with 'suite', 'cases' and 'variants'"
        raise ConfigError(message, where=str(document.path))
    try:
        entry = _SuiteEntry.model_validate(document.data)
    except ValidationError as exc:
        raise _validation_message(exc, document) from None
    cases = _load_cases(entry, document)
    variants: list[Variant] = []
    matrices: dict[str, list[str]] = {}  # a model matrix's id -> the ids it expands to
    origin: dict[str, str] = {}  # an expanded id -> the matrix's id
    seen: set[str] = set()
    for index, item in enumerate(entry.variants):
        expanded = _variants(item, index, cases, document)
        if item.models is not None:
            matrices[item.id] = [variant.id for variant, _ in expanded]
        for variant, where in expanded:
            if variant.id in seen:
                whence = [f"'{origin[variant.id]}'"] if variant.id in origin else []
                if item.models is not None:
                    whence.append(f"'{item.id}'")
                expands = f" (the 'models' of variant {' and '.join(whence)} expand to it)" if whence else ""
                message = f"duplicate variant id '{variant.id}'{expands}"
                raise ConfigError(message, where=where if whence else document.where(("variants",)))
            if item.models is not None:
                origin[variant.id] = item.id
            seen.add(variant.id)
            variants.append(variant)
    ids = [variant.id for variant in variants]
    graders = parse_grader_entries(
        entry.graders, lambda index: document.where(("graders", index)), document.path.parent
    )
    thresholds = _thresholds_over(entry.thresholds, ids, matrices)
    unknown = sorted(set(thresholds.variants or ()) - set(ids))
    if unknown:
        raise ConfigError(
            f"thresholds.variants names unknown variant(s) {unknown} (variants: {', '.join(ids)})",
            where=document.where(("thresholds", "variants")),
        )
    if not 0.0 < entry.band_edges[0] < entry.band_edges[1] < entry.band_edges[2] < 1.0:
        raise ConfigError(
            "band_edges must be three increasing rates between 0 and 1, e.g. [0.6, 0.9, 0.99]",
            where=document.where(("band_edges",)),
        )
    return Suite(
        name=entry.suite,
        description=entry.description,
        cases=cases,
        variants=tuple(variants),
        graders=tuple(graders),
        repeats=entry.repeats,
        thresholds=thresholds,
        band_edges=entry.band_edges,
        confidence=entry.confidence,
        errors=entry.errors,
        seed=entry.seed,
        timeout=entry.timeout,
        max_retries=entry.max_retries,
        max_retry_wait=entry.max_retry_wait,
        grade_timeout=entry.grade_timeout,
        cache=entry.cache,
        human=entry.human,
        source=str(document.path),
    )


def load_suite(path: str | Path) -> Suite:
    """Load and validate a suite file (YAML). Raises ``ConfigError`` with ``file:line: what is wrong``."""
    path = Path(path)
    if path.is_dir():
        path = path / "suite.yaml"
    try:
        return suite_from_document(read_yaml(path))
    except RecursionError:  # a backstop: the readers bound nesting, so this means a value nests too deeply
        raise ConfigError("a value nests too deeply", where=str(path)) from None
