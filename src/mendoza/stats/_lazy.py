"""SciPy modules imported on first use: importing scipy.stats costs about 0.6 s, which every CLI command
would otherwise pay at start-up whether or not it computes a statistic."""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

__all__ = ["scipy_optimize", "scipy_sparse", "scipy_sparse_csgraph", "scipy_special", "scipy_stats"]


class _LazyModule:
    """Stands for a module and imports it when one of its attributes is first read."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attribute: str) -> Any:
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attribute)


scipy_stats: Any = _LazyModule("scipy.stats")
scipy_optimize: Any = _LazyModule("scipy.optimize")
scipy_special: Any = _LazyModule("scipy.special")
scipy_sparse: Any = _LazyModule("scipy.sparse")
scipy_sparse_csgraph: Any = _LazyModule("scipy.sparse.csgraph")
