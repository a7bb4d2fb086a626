"""The runner: cases x variants x repeats -> samples -> grades, streamed into the store."""

from mendoza.runner.adaptive import AdaptiveOutcome, execute_adaptive
from mendoza.runner.engine import RunPlan, execute_run, plan_run
from mendoza.runner.executor import EXECUTORS, Drawn, Executor, LocalExecutor
from mendoza.runner.options import GradeOptions, RunOptions
from mendoza.runner.progress import NullProgress, PlainProgress, Progress, RichProgress, progress_for
from mendoza.runner.retry import CallOutcome, RetryPolicy, call_with_retries

__all__ = [
    "EXECUTORS",
    "AdaptiveOutcome",
    "CallOutcome",
    "Drawn",
    "Executor",
    "GradeOptions",
    "LocalExecutor",
    "NullProgress",
    "PlainProgress",
    "Progress",
    "RetryPolicy",
    "RichProgress",
    "RunOptions",
    "RunPlan",
    "call_with_retries",
    "execute_adaptive",
    "execute_run",
    "plan_run",
    "progress_for",
]
