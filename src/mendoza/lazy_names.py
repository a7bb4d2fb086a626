"""A package whose names are imported from their modules when first read (PEP 562's module ``__getattr__``).

``mendoza.report``, ``mendoza.graders`` and ``mendoza.api`` export many names from many modules; importing them all
up front would make every command pay for every report, grader and the libraries they use (Jinja2, YAML, SciPy)
before it starts. A package lists where each name lives and gets its ``__getattr__`` and ``__dir__`` here;
``if TYPE_CHECKING:`` imports of the same names keep them typed.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping, MutableMapping
from typing import Any

__all__ = ["lazy_names"]


def lazy_names(
    namespace: MutableMapping[str, Any], sources: Mapping[str, tuple[str, ...]]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``__getattr__`` and ``__dir__`` of the package whose ``globals()`` is ``namespace``: each name of
    ``sources`` (module -> names) is imported from its module on first read, then kept in the package."""
    where = {name: module for module, names in sources.items() for name in names}
    package = namespace["__name__"]

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *where})

    return __getattr__, __dir__
