"""Running one grader so that nothing it does takes the run down: whatever it raises (``SystemExit``
included) is its grade's error, it has a time limit, and a grader that blocks (a user's Python function) runs
on a thread of its own, off the event loop, so the other samples, their measured latencies, and Ctrl-C and
SIGTERM are not held up by it.

What a thread cannot stop: a blocking grader that never returns keeps its (daemon) thread busy until mendoza
exits, and code that calls ``os._exit`` or crashes the interpreter ends the process. Untrusted code belongs in
the ``code`` grader, which runs it in a separate, sandboxed process.

``asyncio`` is imported where it is used (it always is by then: grading runs on an event loop), so that a
report that only asks which kind a grader is does not load it.
"""

from __future__ import annotations

import contextlib
import inspect
import threading
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import asyncio

__all__ = ["GraderRaised", "GraderTimeout", "run_guarded"]

T = TypeVar("T")


class GraderTimeout(Exception):
    """A grader took longer than its time limit."""


class GraderRaised(Exception):
    """A grader raised something that is not an ``Exception`` (``SystemExit``, ``GeneratorExit``, a custom
    ``BaseException``): carried as one, since asyncio lets such exceptions out of a task and ends the run."""

    def __init__(self, raised: BaseException) -> None:
        self.raised = raised
        super().__init__(f"{type(raised).__name__}: {raised}")


def _settle(future: asyncio.Future[Any], result: Any, error: BaseException | None) -> None:
    if future.done():  # the wait timed out or was cancelled: nobody reads this any more
        return
    if error is not None:
        future.set_exception(error)
    else:
        future.set_result(result)


async def _on_a_thread(function: Callable[[], T]) -> T:
    """``function()`` on a new daemon thread (a runaway one never holds up mendoza's exit)."""
    import asyncio

    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def target() -> None:
        try:
            result, error = function(), None
        except BaseException as exc:  # handed to the awaiting task, which decides what it means
            result, error = None, exc
        # The run may be over (a grader that outlived its time limit): then nobody is waiting for this.
        with contextlib.suppress(RuntimeError):
            loop.call_soon_threadsafe(_settle, future, result, error)

    threading.Thread(target=target, name="mendoza-grader", daemon=True).start()
    return await future


def _raised(exc: BaseException) -> BaseException:
    """What a grader's exception becomes: ``KeyboardInterrupt``, cancellation and any ``Exception`` as they
    are; ``SystemExit`` and kin as ``GraderRaised`` (asyncio lets them out of a task and ends the run)."""
    import asyncio

    if isinstance(exc, KeyboardInterrupt | asyncio.CancelledError | Exception):
        return exc
    return GraderRaised(exc)


async def run_guarded(call: Callable[[], Any], *, blocking: bool, timeout: float | None) -> Any:
    """The result of a grader's ``call()`` (awaited when it is awaitable), within ``timeout`` seconds
    (``GraderTimeout`` past it). ``blocking`` calls run on a thread of their own. ``KeyboardInterrupt`` and
    cancellation pass through; an ``Exception`` the grader raises reaches the caller as raised, any other
    ``BaseException`` as ``GraderRaised``. A grader that is neither blocking nor awaitable (``equals``,
    ``regex``...) is called directly: no task, no thread, nothing to time out."""
    if not blocking:
        try:
            result = call()
        except BaseException as exc:
            raise _raised(exc) from None
        if not inspect.isawaitable(result):
            return result
        pending: Awaitable[Any] = result

        async def finish() -> Any:
            try:
                return await pending
            except BaseException as exc:
                raise _raised(exc) from None

    else:

        async def finish() -> Any:
            try:
                result = await _on_a_thread(call)
                if inspect.isawaitable(result):
                    awaited: Awaitable[Any] = result
                    result = await awaited
            except BaseException as exc:
                raise _raised(exc) from None
            return result

    import asyncio

    try:
        return await asyncio.wait_for(finish(), timeout)
    except TimeoutError:
        raise GraderTimeout(f"timed out after {timeout:g} s") from None
