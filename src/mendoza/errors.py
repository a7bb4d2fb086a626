"""The project's one exception tree.

Every error a user can cause or meet is a ``MendozaError`` with a one-line message that says what is wrong
and, where it helps, what to do. Only the CLI turns them into exit codes and friendly output.

    MendozaError
    ├── ConfigError            a suite file, dataset, template or option is wrong (names file, line, case)
    ├── ProviderError          a model call failed (``retryable`` and ``retry_after`` steer the runner)
    │   └── ProviderTimeout    a model call took longer than its timeout
    ├── GraderError            a grader could not reach a verdict (recorded on the grade, not raised)
    ├── StoreError             the SQLite store cannot be opened, migrated or written
    │   ├── DiskError          the disk is full or failed a write (the machine's failure, not the input's)
    │   └── RunNotFound        no run matches the id or prefix given
    └── PluginError            a provider or grader name is unknown, or its plugin fails to load
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ConfigError",
    "DiskError",
    "GraderError",
    "MendozaError",
    "PluginError",
    "ProviderError",
    "ProviderTimeout",
    "RunNotFound",
    "StoreError",
    "exception_chain",
]


class MendozaError(Exception):
    """Base of every error mendoza raises on purpose."""


class ConfigError(MendozaError):
    """A suite file, dataset row, template or option is invalid.

    ``where`` locates the problem (``suite.yaml:12`` or ``cases.jsonl:3`` or ``case 'refund-1'``) and is
    put in front of the message. Both are kept to one printable line whatever text from the input they quote
    (a line break becomes ``\\n``, a lone surrogate ``\\ud800``).
    """

    def __init__(self, message: str, where: str | None = None) -> None:
        self.where = _one_line(where) if where is not None else None
        self.detail = _one_line(message)
        super().__init__(f"{self.where}: {self.detail}" if self.where else self.detail)


def _one_line(text: str) -> str:
    """``text`` with line breaks and other control characters escaped, and encodable as UTF-8."""
    if text.isprintable():
        return text
    escaped = "".join(char if char.isprintable() else char.encode("unicode_escape").decode("ascii") for char in text)
    return escaped.encode("utf-8", "backslashreplace").decode("utf-8")


class ProviderError(MendozaError):
    """A model call failed.

    ``retryable`` says whether trying again may help (rate limits, timeouts, 5xx); ``retry_after`` is the
    delay in seconds the server asked for, when it said one. ``steps``: the ``core.Step``s an app recorded
    before it failed (kept on the errored sample, so its page shows where it failed).
    """

    def __init__(self, message: str, *, retryable: bool = False, retry_after: float | None = None) -> None:
        self.retryable = retryable
        self.retry_after = retry_after
        self.steps: tuple[Any, ...] = ()
        super().__init__(message)


class ProviderTimeout(ProviderError):
    """A model call took longer than its timeout."""

    def __init__(self, message: str) -> None:
        super().__init__(message, retryable=True)


class GraderError(MendozaError):
    """A grader could not reach a verdict on a sample (bad parameters, a crashing function...)."""


class StoreError(MendozaError):
    """The SQLite store cannot be opened, migrated, read or written."""


class DiskError(StoreError):
    """The disk is full or failed a write: what was committed before is kept, and the run can be resumed once
    there is space (the CLI exits 4, not 2: the input was fine)."""


class RunNotFound(StoreError):
    """No run matches the id (or unique prefix) that was given."""


class PluginError(MendozaError):
    """A provider or grader name is unknown, or the plugin that provides it fails to load."""


def exception_chain(exc: BaseException, limit: int = 20) -> list[BaseException]:
    """``exc`` and the exceptions it was raised from or during, nearest first (at most ``limit``, no cycles):
    where a failure's real cause is found (a transport error under an SDK's, a full disk under a store's)."""
    links: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in links and len(links) < limit:
        links.append(current)
        current = current.__cause__ or current.__context__
    return links
