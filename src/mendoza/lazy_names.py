"""A package whose names are imported from their modules when first read (PEP 562's module ``__getattr__``).

``mendoza``, ``mendoza.api``, ``mendoza.report`` and ``mendoza.graders`` export many names from many modules;
importing them all up front would make every command pay for every report, grader and the libraries they use
(pydantic's models, Jinja2, YAML) before it starts. Such a package imports the names it exports under
``if TYPE_CHECKING:``, which types them, and gets its ``__getattr__`` and ``__dir__`` here: on the first read
of one of its names, those imports are read from the package's source (parsed, not run), so where each name
lives is written once.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, MutableMapping
from pathlib import Path
from typing import Any

__all__ = ["lazy_names"]


def lazy_names(namespace: MutableMapping[str, Any]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of the package whose ``globals()`` is ``namespace``: each name of
    its ``__all__`` that its ``if TYPE_CHECKING:`` block imports is imported from that module on first read,
    then kept in the package."""
    package = namespace["__name__"]
    where: dict[str, str] = {}

    def sources() -> dict[str, str]:
        if not where:
            import ast  # here: a command that reads no lazy name (``mendoza --help``) does not load it

            exported = set(namespace["__all__"])
            tree = ast.parse(Path(namespace["__file__"]).read_text(encoding="utf-8"))
            for node in tree.body:
                if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
                    for statement in node.body:
                        if isinstance(statement, ast.ImportFrom) and statement.module is not None:
                            for alias in statement.names:
                                if (alias.asname or alias.name) in exported:
                                    where[alias.asname or alias.name] = statement.module
        return where

    def __getattr__(name: str) -> Any:
        module = sources().get(name) if not name.startswith("__") else None
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *sources()})

    return __getattr__, __dir__
