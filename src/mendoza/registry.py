"""Named providers and graders: the built-in ones and those that plugins add through entry points.

A plugin package declares, in its ``pyproject.toml``::

    [project.entry-points."mendoza.providers"]
    myprovider = "my_package.module:MyProvider"      # a mendoza.providers.base.Provider subclass

    [project.entry-points."mendoza.graders"]
    mygrader = "my_package.module:MyGrader"          # a mendoza.graders.SampleGrader or PairwiseGrader subclass

Classes are imported only when first asked for, so listing names costs nothing. The entry points are read once
per process; ``reload_plugins`` reads them again (after installing a plugin into a running process, or in a
test that puts one on ``sys.path``).
"""

from __future__ import annotations

import importlib
from functools import cache
from importlib.metadata import entry_points
from typing import Any

from mendoza.errors import PluginError

__all__ = ["grader_class", "grader_names", "provider_class", "provider_names", "reload_plugins"]

PROVIDER_GROUP = "mendoza.providers"
GRADER_GROUP = "mendoza.graders"

_BUILTIN_PROVIDERS = {
    "local": "mendoza.providers.local:LocalProvider",
    "openai": "mendoza.providers.openai_compatible:OpenAIProvider",
    "anthropic": "mendoza.providers.anthropic:AnthropicProvider",
    "python": "mendoza.providers.python_callable:PythonProvider",
    "echo": "mendoza.providers.echo:EchoProvider",
    "mock": "mendoza.providers.mock:MockProvider",
    "replay": "mendoza.providers.replay:ReplayProvider",
}

_BUILTIN_GRADERS = {
    "equals": "mendoza.graders.text:Equals",
    "contains": "mendoza.graders.text:Contains",
    "contains_any": "mendoza.graders.text:ContainsAny",
    "contains_all": "mendoza.graders.text:ContainsAll",
    "regex": "mendoza.graders.text:Regex",
    "length": "mendoza.graders.text:Length",
    "json": "mendoza.graders.structured:Json",
    "numeric": "mendoza.graders.structured:Numeric",
    "tool_called": "mendoza.graders.agents:ToolCalled",
    "trajectory": "mendoza.graders.agents:Trajectory",
    "python": "mendoza.graders.python_function:PythonFunction",
    "code": "mendoza.graders.code:Code",
    "rubric": "mendoza.graders.rubric:Rubric",
    "pairwise": "mendoza.graders.pairwise:Pairwise",
}


def _load(target: str, kind: str, name: str) -> Any:
    module_name, _, attribute = target.partition(":")
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as exc:
        raise PluginError(f"{kind} '{name}' cannot be loaded from {target}: {exc}") from None


@cache
def _table(group: str) -> dict[str, str]:
    builtin = _BUILTIN_PROVIDERS if group == PROVIDER_GROUP else _BUILTIN_GRADERS
    table = dict(builtin)
    for entry in entry_points(group=group):
        table.setdefault(entry.name, entry.value)
    return table


@cache
def provider_class(name: str) -> Any:
    """The provider class registered under ``name`` (``PluginError`` if none)."""
    table = _table(PROVIDER_GROUP)
    if name not in table:
        known = ", ".join(sorted(table))
        raise PluginError(
            f"unknown provider '{name}' (known: {known}); a model looks like 'local/gemma-3-270m'"
        )
    return _load(table[name], "provider", name)


@cache
def grader_class(name: str) -> Any:
    """The grader class registered under ``name`` (``PluginError`` if none)."""
    table = _table(GRADER_GROUP)
    if name not in table:
        raise PluginError(f"unknown grader '{name}' (known: {', '.join(sorted(table))})")
    return _load(table[name], "grader", name)


def provider_names() -> list[str]:
    """Every provider name, built-in first."""
    return list(_table(PROVIDER_GROUP))


def grader_names() -> list[str]:
    """Every grader name, built-in first."""
    return list(_table(GRADER_GROUP))


def reload_plugins() -> None:
    """Forget what the registry has read and loaded, so the next lookup reads the entry points again (a
    plugin installed, or put on ``sys.path``, after the first lookup). Modules already imported stay imported."""
    importlib.invalidate_caches()  # importlib.metadata remembers each sys.path folder's listing
    _table.cache_clear()
    provider_class.cache_clear()
    grader_class.cache_clear()
