"""Calling a model: the ``Provider`` interface and the one path every model call takes (the cache of model
calls, a timeout and retries, a concurrency limit), used alike by the runner's workers and by judges.

It sits below ``providers/`` and ``graders/`` (and the runner above them), so each of them may import it.
"""

from mendoza.calls.cache_keys import cache_key, judge_cache_key
from mendoza.calls.caller import CallResult, ModelCache, ModelCaller, concurrency_limit
from mendoza.calls.provider import JudgeStyle, Provider
from mendoza.calls.retry import DEFAULT_MAX_RETRY_WAIT, CallOutcome, RetryPolicy, call_with_retries

__all__ = [
    "DEFAULT_MAX_RETRY_WAIT",
    "CallOutcome",
    "CallResult",
    "JudgeStyle",
    "ModelCache",
    "ModelCaller",
    "Provider",
    "RetryPolicy",
    "cache_key",
    "call_with_retries",
    "concurrency_limit",
    "judge_cache_key",
]
