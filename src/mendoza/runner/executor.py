"""Where sample work runs: the one seam between the run loop and the machines that draw and grade samples.

The run loop (``runner/engine.py``) decides *what* to sample and keeps every guarantee of the store: it reads
what is done, hands out at most a variant's concurrency limit of (case, repeat) items at once, and gives each
finished sample to the one ``SampleWriter``. An ``Executor`` decides *where* one item is drawn and graded:

- ``LocalExecutor`` (the default): in this process, on its event loop, as always. It imports nothing more.
- ``RayExecutor`` (``runner/ray_executor.py``, ``--executor ray``): in Ray actors, one per worker slot, each
  holding the suite's providers and graders (an embedded model, an app, a sandbox) for the whole run, on a
  local Ray instance or a cluster. Imported only when asked for, so a plain run never imports Ray.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Protocol

from mendoza.core import EXECUTORS, Case, ModelResponse, Sample, Suite, Variant
from mendoza.errors import ConfigError

if TYPE_CHECKING:
    from mendoza.runner.options import RunOptions

__all__ = ["EXECUTORS", "Drawn", "Executor", "LocalExecutor", "VariantSampler", "executor_for"]

CacheEntry = tuple[str, ModelResponse]


@dataclass(frozen=True, slots=True)
class Drawn:
    """One finished sample and the new entries for the cache of model calls that drawing it produced (the
    sample's own call; on a Ray worker also its judges' and its app's model calls), for the writer's batch."""

    sample: Sample
    cache_entries: tuple[CacheEntry, ...] = ()


class VariantSampler(Protocol):
    """What the run loop keeps per variant (``engine._VariantWorker``): the variant, its seed, and a way to
    draw and grade one sample in this process."""

    variant: Variant
    suite_seed: int

    async def sample(self, case: Case, repeat: int) -> tuple[Sample, CacheEntry | None]:
        """Draw and grade one sample here (never raises for a model's or grader's failure)."""
        ...


class Executor(ABC):
    """Draws and grades one (case, repeat) of a variant somewhere; see the module.

    ``open`` is called before the first sample of each batch of work (an adaptive run calls it every round: it
    must start its workers once), ``close`` once when the run ends, also after a failure or a cancellation.
    """

    name: ClassVar[str]

    async def open(self, suite: Suite, options: RunOptions, cache_db: Path | str | None) -> None:  # noqa: B027
        """Start the workers (``cache_db``: the store whose cache of model calls they read, a file or a
        PostgreSQL address; None: no cache)."""

    @abstractmethod
    async def sample(self, worker: VariantSampler, case: Case, repeat: int) -> Drawn:
        """Draw and grade one sample of ``worker``'s variant. Never raises for a model's, an app's or a
        grader's failure (they are the sample's error); raises only what should stop the run."""

    async def close(self) -> None:  # noqa: B027
        """Stop the workers and release what ``open`` took."""


class LocalExecutor(Executor):
    """Every sample in this process, on the run's event loop (the default)."""

    name: ClassVar[str] = "local"

    async def sample(self, worker: VariantSampler, case: Case, repeat: int) -> Drawn:
        sample, entry = await worker.sample(case, repeat)
        return Drawn(sample, () if entry is None else (entry,))


def executor_for(options: RunOptions, variants: Sequence[Variant]) -> Executor:
    """The executor ``options`` ask for; raises ``ConfigError`` for an unknown one, for Ray options without
    ``executor="ray"``, and (from ``RayExecutor``) when Ray is not installed or its cluster cannot be reached."""
    if options.executor not in EXECUTORS:
        raise ConfigError(f"executor must be one of {', '.join(EXECUTORS)}, not {options.executor!r}")
    if options.executor == "local":
        if options.ray_address is not None or options.ray_workers is not None:
            raise ConfigError("ray_address and ray_workers work only with executor='ray' (--executor ray)")
        return LocalExecutor()
    from mendoza.runner.ray_executor import RayExecutor  # Ray is imported only by a run that asks for it

    return RayExecutor(options.ray_address, options.ray_workers, variants)
