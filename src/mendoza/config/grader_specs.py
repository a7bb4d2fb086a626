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

from typing import Any

from pydantic import ValidationError

from mendoza.core import GraderSpec
from mendoza.errors import ConfigError, GraderError, PluginError
from mendoza.registry import grader_class, grader_names

__all__ = ["parse_grader_entry", "parse_grader_entries"]


def _split_entry(entry: Any) -> tuple[str, Any, dict[str, Any], bool]:
    """(type, main value, extra params, negate) from one raw entry."""
    if isinstance(entry, str):
        entry = {entry: {}}
    if not isinstance(entry, dict) or not entry:
        raise ConfigError(f"a grader must be a mapping like {{contains: 'text'}}, not {entry!r}")
    if "type" in entry:
        params = {key: value for key, value in entry.items() if key not in ("type", "name")}
        return str(entry["type"]), None, params, False
    if set(entry) == {"not"}:
        grader_type, value, params, negate = _split_entry(entry["not"])
        return grader_type, value, params, not negate
    known = set(grader_names())
    keys = [key for key in entry if key != "name" and (key in known or key.removeprefix("not-") in known)]
    if len(keys) != 1:
        candidates = [key for key in entry if key != "name"]
        if not keys and len(candidates) == 1:
            raise PluginError(f"unknown grader '{candidates[0]}' (known: {', '.join(sorted(known))})")
        raise ConfigError(
            f"a grader entry must name exactly one grader type, found {keys or candidates} "
            "(write 'type: NAME' to be explicit)"
        )
    key = keys[0]
    negate = key not in known and key.startswith("not-")
    grader_type = key.removeprefix("not-") if negate else key
    extras = {name: value for name, value in entry.items() if name not in (key, "name")}
    return grader_type, entry[key], extras, negate


def parse_grader_entry(entry: Any, index: int) -> GraderSpec:
    """One suite grader entry as a validated ``GraderSpec`` (parameters checked against the grader)."""
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
    try:
        cls.parse_params(params)
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or "parameters"
        if first["type"] == "extra_forbidden":
            allowed = ", ".join(cls.Params.model_fields)
            raise ConfigError(f"grader '{grader_type}': unknown parameter '{field}' (allowed: {allowed})") from None
        raise ConfigError(f"grader '{grader_type}': parameter '{field}': {first['msg']}") from None
    except GraderError as exc:
        raise ConfigError(str(exc)) from None
    explicit = entry.get("name") if isinstance(entry, dict) else None
    name = str(explicit) if explicit else ("not-" if negate else "") + grader_type
    return GraderSpec(type=grader_type, params=params, name=name, negate=negate)


def parse_grader_entries(entries: list[Any], where: Any) -> list[GraderSpec]:
    """All grader entries; names are made unique (``contains``, ``contains#2``). ``where(index)`` locates
    an entry for error messages."""
    specs: list[GraderSpec] = []
    seen: dict[str, int] = {}
    for index, entry in enumerate(entries):
        try:
            spec = parse_grader_entry(entry, index)
        except (ConfigError, PluginError) as exc:
            message = exc.detail if isinstance(exc, ConfigError) else str(exc)
            raise ConfigError(message, where=where(index)) from None
        seen[spec.name] = seen.get(spec.name, 0) + 1
        if seen[spec.name] > 1:
            spec = spec.model_copy(update={"name": f"{spec.name}#{seen[spec.name]}"})
        specs.append(spec)
    return specs
