"""Timeouts and retries around one model call: defined in ``mendoza.calls.retry`` (shared with judges),
re-exported here for code that imported them from the runner."""

from mendoza.calls.retry import DEFAULT_MAX_RETRY_WAIT, CallOutcome, RetryPolicy, call_with_retries

__all__ = ["DEFAULT_MAX_RETRY_WAIT", "CallOutcome", "RetryPolicy", "call_with_retries"]
