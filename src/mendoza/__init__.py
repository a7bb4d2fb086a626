"""mendoza: evals for stochastic AI features.

Run a suite many times against a stochastic model, see how often the feature is good with honest error bars,
and learn what product design that reliability allows.

    >>> import mendoza
    >>> result = mendoza.run("examples/support_tickets/suite.yaml", repeats=3)
    >>> result.report.variant("few-shot").pass_rate, result.gate.outcome, result.passed

``docs/api.md`` documents the public API: ``run``, ``open_run``, ``suite``, ``RunResult``, ``step``, ``model``
and the data types. Everything in ``__all__`` is stable; anything else may change.

The heavier parts (the data model, runner, store, providers) are imported on first use, so ``import mendoza``
stays cheap.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from mendoza.errors import ConfigError, MendozaError, ProviderError, RunNotFound, StoreError

if TYPE_CHECKING:
    from mendoza.api import RunResult, load_suite, open_run, open_store, run, run_suite, suite
    from mendoza.calls.tracing import step
    from mendoza.core import Case, Grade, GraderSpec, Run, Sample, Suite, Thresholds, Variant
    from mendoza.providers.app_models import model

__version__ = "0.1.0"

__all__ = [
    "Case",
    "ConfigError",
    "Grade",
    "GraderSpec",
    "MendozaError",
    "ProviderError",
    "Run",
    "RunNotFound",
    "RunResult",
    "Sample",
    "StoreError",
    "Suite",
    "Thresholds",
    "Variant",
    "__version__",
    "load_suite",
    "model",
    "open_run",
    "open_store",
    "run",
    "run_suite",
    "step",
    "suite",
]

_LAZY = {
    # The data model (pydantic): imported on first use, so `mendoza --help` does not build its models.
    **dict.fromkeys(["Case", "Grade", "GraderSpec", "Run", "Sample", "Suite", "Thresholds", "Variant"], "mendoza.core"),
    "run": "mendoza.api",
    "open_run": "mendoza.api",
    "suite": "mendoza.api",
    "RunResult": "mendoza.api",
    "load_suite": "mendoza.api",
    "run_suite": "mendoza.api",
    "open_store": "mendoza.api",
    # For the app under test: record a step; call a model through mendoza (cached, retried, recorded).
    "step": "mendoza.calls.tracing",
    "model": "mendoza.providers.app_models",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'mendoza' has no attribute {name!r}")
