"""The runner: cases x variants x repeats -> samples -> grades, streamed into the store."""

from mendoza.runner.engine import RunOptions, execute_run
from mendoza.runner.progress import NullProgress, PlainProgress, Progress, RichProgress, progress_for
from mendoza.runner.retry import CallOutcome, RetryPolicy, call_with_retries

__all__ = [
    "CallOutcome",
    "NullProgress",
    "PlainProgress",
    "Progress",
    "RetryPolicy",
    "RichProgress",
    "RunOptions",
    "call_with_retries",
    "execute_run",
    "progress_for",
]
