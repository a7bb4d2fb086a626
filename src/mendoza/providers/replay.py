"""Outputs produced elsewhere, replayed from a JSONL file: grade completions that another tool, a production
log or a benchmark's reference run made, with mendoza's graders and statistics.

``model: replay/completions.jsonl`` (the path relative to the suite file). Each line is one output::

    {"case_id": "HumanEval/0", "completion": "    return ...", "repeat": 0}

The case is named by ``case_id`` (or ``case``, ``task_id``, ``id``); the output by ``output`` (or
``completion``, ``text``); ``repeat`` is optional: without it, a case's lines are its repeats in file order.
A line may carry ``error`` (the sample errors with that message) and ``tokens_in``, ``tokens_out``, ``cost``.
A (case, repeat) the file does not hold errors with a message that says so.

A conversation (a case with ``messages``) is replayed turn by turn from ``turns``, a list of the assistant's
answers in order (the answer to the conversation's Nth user turn is ``turns[N-1]``; a turn the list does not
reach is that sample's error)::

    {"case_id": "greeting", "turns": ["Hello! How can I help?", "Paris is in France."]}

A line without ``turns`` answers every turn with its ``output``; a case without messages gets the last of its
``turns`` when the line has no ``output``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from mendoza.core import ModelRequest, ModelResponse, Variant
from mendoza.errors import ConfigError, ProviderError
from mendoza.providers.base import Provider

__all__ = ["ReplayProvider", "load_replay"]

_CASE_KEYS = ("case_id", "case", "task_id", "id")
_OUTPUT_KEYS = ("output", "completion", "text")
#: A replay file larger than this is refused (it is held in memory while the run lasts).
MAX_REPLAY_BYTES = 1024 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class _Stored:
    output: str | None
    error: str | None
    tokens_in: int | None
    tokens_out: int | None
    cost: float | None
    turns: tuple[str, ...] | None = None


_loaded: dict[tuple[str, int, int], dict[tuple[str, int], _Stored]] = {}


def _first(record: dict[str, Any], keys: tuple[str, ...]) -> Any:
    return next((record[key] for key in keys if key in record), None)


def _number(record: dict[str, Any], key: str, kind: type, where: str) -> Any:
    value = record.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, kind | int):
        raise ConfigError(f"'{key}' must be a number, not {type(value).__name__}", where=where)
    return value


def load_replay(path: Path) -> dict[tuple[str, int], _Stored]:
    """The outputs of a replay file by (case id, repeat), read once per file version (``ConfigError`` with
    ``file:line`` for a line that is not a JSON object with a case and an output or error)."""
    try:
        stat = path.stat()
    except OSError:
        raise ConfigError(f"replay file '{path}' not found") from None
    if stat.st_size > MAX_REPLAY_BYTES:
        raise ConfigError(f"replay file '{path}' is larger than {MAX_REPLAY_BYTES:,} bytes")
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if key in _loaded:
        return _loaded[key]
    outputs: dict[tuple[str, int], _Stored] = {}
    following: dict[str, int] = {}
    with path.open(encoding="utf-8", errors="replace") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            where = f"{path}:{number}"
            try:
                record = json.loads(line)
            except (json.JSONDecodeError, RecursionError, ValueError) as exc:
                raise ConfigError(f"invalid JSON: {str(exc)[:200]}", where=where) from None
            if not isinstance(record, dict):
                raise ConfigError("each line must be a JSON object", where=where)
            case = _first(record, _CASE_KEYS)
            if not isinstance(case, str | int) or isinstance(case, bool):
                raise ConfigError(f"no case id (one of {', '.join(_CASE_KEYS)})", where=where)
            output, error, turns = _first(record, _OUTPUT_KEYS), record.get("error"), record.get("turns")
            if turns is not None and (
                not isinstance(turns, list) or not turns or not all(isinstance(turn, str) for turn in turns)
            ):
                raise ConfigError("'turns' must be a non-empty list of texts (the answers, in order)", where=where)
            if output is None and error is None and turns is None:
                raise ConfigError(
                    f"no output (one of {', '.join(_OUTPUT_KEYS)}, or turns) and no error", where=where
                )
            repeat = record.get("repeat", following.get(str(case), 0))
            if not isinstance(repeat, int) or isinstance(repeat, bool) or repeat < 0:
                raise ConfigError("'repeat' must be a whole number from 0", where=where)
            if (str(case), repeat) in outputs:
                raise ConfigError(f"case '{case}' repeat {repeat} appears twice", where=where)
            following[str(case)] = max(following.get(str(case), 0), repeat + 1)
            outputs[(str(case), repeat)] = _Stored(
                None if output is None else str(output),
                None if error is None else str(error),
                _number(record, "tokens_in", int, where),
                _number(record, "tokens_out", int, where),
                _number(record, "cost", float, where),
                None if turns is None else tuple(turns),
            )
    _loaded[key] = outputs
    return outputs


class ReplayProvider(Provider):
    """``replay/FILE.jsonl``: each (case, repeat) answers with the output the file stored for it."""

    name: ClassVar[str] = "replay"
    description: ClassVar[str] = "outputs produced elsewhere, replayed from a JSONL file by case (and repeat)"
    default_concurrency: ClassVar[int] = 10_000
    cacheable: ClassVar[bool] = False
    needs_prompt: ClassVar[bool] = False
    example: ClassVar[str] = "replay/completions.jsonl"

    def __init__(self, variant: Variant) -> None:
        super().__init__(variant)
        self._path = Path(variant.model_name)
        self._outputs = load_replay(self._path)

    @classmethod
    def check(cls, variant: Variant) -> None:
        """Read the file when the suite loads: a malformed line is one error naming it."""
        load_replay(Path(variant.model_name))

    @classmethod
    def with_paths_from(cls, variant: Variant, folder: Path) -> Variant:
        """The replay file's path made absolute against the suite's folder."""
        path = Path(variant.model_name)
        if path.is_absolute():
            return variant
        return variant.model_copy(update={"model": f"replay/{(folder / path).resolve()}"})

    async def complete(self, request: ModelRequest) -> ModelResponse:
        """The stored output of this (case, repeat)."""
        stored = self._outputs.get((request.case_id, request.repeat))
        if stored is None:
            raise ProviderError(
                f"replay: {self._path.name} holds no output for case '{request.case_id}' repeat {request.repeat}"
            )
        if stored.error is not None:
            raise ProviderError(f"replay: {stored.error}")
        text = stored.output
        if stored.turns is not None:
            if request.messages:
                turn = sum(message.role == "user" for message in request.messages)
                if not 1 <= turn <= len(stored.turns):
                    raise ProviderError(
                        f"replay: {self._path.name} holds {len(stored.turns)} turn(s) for case "
                        f"'{request.case_id}' repeat {request.repeat}, not turn {turn}"
                    )
                text = stored.turns[turn - 1]
            elif text is None:
                text = stored.turns[-1]
        return ModelResponse(
            text=text or "",
            tokens_in=stored.tokens_in,
            tokens_out=stored.tokens_out,
            cost=stored.cost,
        )
