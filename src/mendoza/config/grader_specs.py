"""Grader entries as a suite writes them, turned into ``GraderSpec`` objects.

Accepted forms (the last two negate)::

    - contains: "{{ expected }}"                 # type as the key, scalar shorthand
    - equals: "{{ expected }}"                   # shorthand plus options beside it
      ignore_case: true
    - type: regex                                # long form
      pattern: "^(yes|no)$"
      name: yes-or-no
    - not-contains: "As an AI"
    - not: {contains: "As an AI"}
"""

from __future__ import annotations

import difflib
import json
import re
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from mendoza.core import GraderSpec
from mendoza.errors import ConfigError, GraderError, PluginError
from mendoza.registry import grader_class, grader_names

__all__ = ["parse_grader_entries", "parse_grader_entry"]


#: Keys of a grader entry that say how it is applied, not what it checks.
_TARGET_KEYS = ("name", "step", "turn", "runtime")


def _split_entry(entry: Any) -> tuple[str, Any, dict[str, Any], bool]:
    """(type, main value, extra params, negate) from one raw entry."""
    if isinstance(entry, str):
        entry = {entry: {}}
    if not isinstance(entry, dict) or not entry:
        raise ConfigError(f"a grader must be a mapping like {{contains: 'text'}}, not {entry!r}")
    if "type" in entry:
        params = {key: value for key, value in entry.items() if key != "type" and key not in _TARGET_KEYS}
        return str(entry["type"]), None, params, False
    if set(entry) == {"not"}:
        grader_type, value, params, negate = _split_entry(entry["not"])
        return grader_type, value, params, not negate
    known = set(grader_names())
    keys = [key for key in entry if key not in _TARGET_KEYS and (key in known or key.removeprefix("not-") in known)]
    if len(keys) != 1:
        candidates = [key for key in entry if key not in _TARGET_KEYS]
        if not keys and len(candidates) == 1:
            raise PluginError(f"unknown grader '{candidates[0]}' (known: {', '.join(sorted(known))})")
        raise ConfigError(
            f"a grader entry must name exactly one grader type, found {keys or candidates} "
            "(write 'type: NAME' to be explicit)"
        )
    key = keys[0]
    negate = key not in known and key.startswith("not-")
    grader_type = key.removeprefix("not-") if negate else key
    extras = {name: value for name, value in entry.items() if name != key and name not in _TARGET_KEYS}
    return grader_type, entry[key], extras, negate


def _parameter_error(grader_type: str, cls: Any, params: dict[str, Any], exc: ValidationError) -> ConfigError:
    """One line for the first problem with a grader's parameters (an unknown one first: a misspelt required
    parameter is also reported missing, and the misspelling is what the author must fix)."""
    errors = exc.errors()
    first = next((error for error in errors if error["type"] == "extra_forbidden"), errors[0])
    # Keep the parameter names; drop the union-member tags pydantic adds (``schema.dict[str,any]``).
    location = [part for part in first["loc"] if part in params or isinstance(part, int)]
    location = location or list(first["loc"][:1])
    field = ".".join(str(part) for part in location) or "parameters"
    if first["type"] == "extra_forbidden":
        # What a suite writes: a field's alias where it has one (``schema``, not ``schema_``).
        names = [info.alias or name for name, info in cls.Params.model_fields.items()]
        close = difflib.get_close_matches(field, names, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        return ConfigError(
            f"grader '{grader_type}': unknown parameter '{field}'{hint} (allowed: {', '.join(names)})"
        )
    message = str(first["msg"]).removeprefix("Value error, ")
    return ConfigError(f"grader '{grader_type}': parameter '{field}': {message}")


def parse_grader_entry(entry: Any, index: int, base_dir: Path | None = None) -> GraderSpec:
    """One suite grader entry as a validated ``GraderSpec`` (parameters checked against the grader). Files a
    grader's parameters name (a judge's prompt file) are read relative to ``base_dir`` when it is given."""
    grader_type, value, extras, negate = _split_entry(entry)
    cls = grader_class(grader_type)
    params: dict[str, Any]
    if value is None or value == {}:
        params = dict(extras)
    elif isinstance(value, dict):
        params = {**value, **extras}
    elif cls.shorthand is None:
        if value is not True:
            raise ConfigError(f"grader '{grader_type}' takes a mapping of parameters, not {value!r}")
        params = dict(extras)
    else:
        params = {cls.shorthand: value, **extras}
    if base_dir is not None:
        params = cls.resolve_files(params, base_dir)
    try:
        cls.check(cls.parse_params(params))
    except ValidationError as exc:
        raise _parameter_error(grader_type, cls, params, exc) from None
    except (GraderError, PluginError) as exc:
        raise ConfigError(str(exc)) from None
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # the author's module raised on import, even SystemExit: one line, not an exit
        raise ConfigError(f"grader '{grader_type}' fails to load: {type(exc).__name__}: {exc}") from None
    raw = entry if isinstance(entry, dict) else {}
    step, turn = _target(raw, grader_type)
    explicit = raw.get("name")
    name = str(explicit) if explicit else (f"{step}." if step else "") + ("not-" if negate else "") + grader_type
    runtime = raw.get("runtime", False)
    if not isinstance(runtime, bool):
        raise ConfigError(f"grader '{name}': 'runtime' must be true or false, not {runtime!r}")
    spec = GraderSpec(type=grader_type, params=params, name=name, negate=negate, step=step, turn=turn)
    if runtime:
        check_runtime(spec)
    return spec.model_copy(update={"runtime": runtime})


#: Grader types that compare with a reference by their nature, whatever their parameters say.
_REFERENCE_TYPES = frozenset({"rubric", "pairwise"})


def needs_reference(spec: GraderSpec) -> str | None:
    """Why a grader cannot run in production (None when it can): its parameters read the case's ``expected``
    answer (or its metadata, which evals use for references), or it is a judge's rubric or pairwise grader."""
    if spec.type in _REFERENCE_TYPES:
        return f"a {spec.type} grader is a judgement made for the eval, not a run-time check"
    text = json.dumps(spec.params, ensure_ascii=False, default=str)
    for name in ("expected", "metadata"):
        if re.search(r"\{[{%][^}]*\b" + name + r"\b", text):
            return f"its parameters read the case's '{name}', which only an eval has"
    return None


def check_runtime(spec: GraderSpec) -> None:
    """Refuse, in one line, a grader marked ``runtime`` that needs the reference answer."""
    reason = needs_reference(spec)
    if reason is not None:
        raise ConfigError(f"grader '{spec.name}' cannot be a run-time check: {reason}")


def _target(entry: dict[str, Any], grader_type: str) -> tuple[str | None, Any]:
    """What a grader entry grades: ``step: NAME`` (that step's output), ``turn: last | each``."""
    step = entry.get("step")
    if step is not None and (not isinstance(step, str) or not step.strip()):
        raise ConfigError(f"grader '{grader_type}': 'step' must be the name of a step, not {step!r}")
    turn = entry.get("turn", "last")
    if turn not in ("last", "each"):
        raise ConfigError(f"grader '{grader_type}': 'turn' must be 'last' or 'each', not {turn!r}")
    if step is not None and turn == "each":
        raise ConfigError(f"grader '{grader_type}': give 'step' or 'turn: each', not both")
    return step, turn


def parse_grader_entries(entries: list[Any], where: Any, base_dir: Path | None = None) -> list[GraderSpec]:
    """All grader entries; names are made unique (``contains``, ``contains#2``). ``where(index)`` locates
    an entry for error messages; files named by parameters are read relative to ``base_dir``."""
    specs: list[GraderSpec] = []
    for index, entry in enumerate(entries):
        try:
            specs.append(parse_grader_entry(entry, index, base_dir))
        except (ConfigError, PluginError) as exc:
            message = exc.detail if isinstance(exc, ConfigError) else str(exc)
            raise ConfigError(message, where=where(index)) from None
    # A name written in the suite is kept; a repeated one gets the first free ``#N`` (never one the suite
    # wrote for another grader).
    taken = {spec.name for spec in specs}
    seen: set[str] = set()
    unique: list[GraderSpec] = []
    for spec in specs:
        if spec.name in seen:
            number = 2
            while f"{spec.name}#{number}" in taken:
                number += 1
            spec = spec.model_copy(update={"name": f"{spec.name}#{number}"})
            taken.add(spec.name)
        seen.add(spec.name)
        unique.append(spec)
    return unique
