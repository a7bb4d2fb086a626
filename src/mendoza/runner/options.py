"""How to run and how to grade again: the options every entry point (the CLI, the viewer, the Python API) passes
down as one value, instead of the same keywords repeated through each signature on the way."""

from __future__ import annotations

from dataclasses import dataclass, field

from mendoza.runner.progress import NullProgress, Progress

__all__ = ["GradeOptions", "RunOptions"]


@dataclass(frozen=True)
class RunOptions:
    """How to run a suite.

    ``use_cache``: serve repeated model calls from the store's cache. ``concurrency``: one worker count for
    every variant (None: each variant's own). ``until_decided``: sample adaptively, in rounds, stopping each
    variant once its band is decided, within ``budget`` samples (None: four times the fixed design).
    ``batch_size`` / ``flush_interval``: how often finished samples are committed. ``executor``: where samples
    are drawn and graded, ``"local"`` (this process) or ``"ray"`` (Ray actors: ``ray_address`` names the
    cluster, None: ``RAY_ADDRESS`` or a local Ray instance; ``ray_workers`` actors, None: one per CPU of the
    cluster); see ``runner/executor.py``.
    """

    use_cache: bool = True
    concurrency: int | None = None
    progress: Progress = field(default_factory=NullProgress)
    until_decided: bool = False
    budget: int | None = None
    batch_size: int = 500
    flush_interval: float = 0.5
    executor: str = "local"
    ray_address: str | None = None
    ray_workers: int | None = None


@dataclass(frozen=True)
class GradeOptions:
    """How to grade stored outputs again (``mendoza regrade``, ``mendoza rank``).

    ``force``: grade again what the same grader definition already graded. ``concurrency``: grades at once
    (a judge also keeps to its own provider's limit). ``grade_timeout``: seconds one code or Python grader
    may take (None: the run's suite's ``grade_timeout``; judges are bounded by their calls' timeouts).
    """

    use_cache: bool = True
    force: bool = False
    concurrency: int = 32
    progress: Progress = field(default_factory=NullProgress)
    grade_timeout: float | None = None
    batch_size: int = 200
