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

from typing import TYPE_CHECKING

from mendoza.errors import ConfigError, MendozaError, ProviderError, RunNotFound, StoreError
from mendoza.lazy_names import lazy_names

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

__getattr__, __dir__ = lazy_names(globals())
