"""Scripted judges and an app under test for the soft-eval tests, named as ``python:tests.graders.judges:fn``.

A python-provider judge gets the rendered judge prompt as ``prompt=`` and answers with text, like a model.
"""

from __future__ import annotations

import asyncio
import re
import threading
from typing import Any

from mendoza.graders.judge_prompts import REASK_SUFFIX

PROMPTS: list[str] = []
APP_CALLS: list[dict[str, Any]] = []
_LOCK = threading.Lock()
_SEQUENCE: list[str] = []
_ACTIVE = 0
MAX_ACTIVE = 0


def reset(sequence: list[str] | None = None) -> None:
    """Forget what the judges saw; ``sequence``: the answers ``in_sequence`` gives, in call order."""
    global MAX_ACTIVE, _ACTIVE
    with _LOCK:
        PROMPTS.clear()
        APP_CALLS.clear()
        _SEQUENCE[:] = list(sequence or [])
        MAX_ACTIVE = _ACTIVE = 0


def _output_of(prompt: str) -> str:
    match = re.search(r"\[Output\]\n(.*?)\n\n", prompt, re.DOTALL)
    return match.group(1) if match else ""


def good_word(vars: dict[str, Any], prompt: str) -> str:
    """PASS when the judged output contains 'good' (a JSON answer with a reason)."""
    with _LOCK:
        PROMPTS.append(prompt)
    verdict = "PASS" if "good" in _output_of(prompt) else "FAIL"
    return f'Sure. {{"reason": "looked for the word good", "verdict": "{verdict}"}}'


def unreadable_until_asked_again(vars: dict[str, Any], prompt: str) -> str:
    """Rambles on the first ask; answers PASS when asked again."""
    with _LOCK:
        PROMPTS.append(prompt)
    return "Verdict: PASS" if prompt.endswith(REASK_SUFFIX) else "Well, it depends on how you look at it."


def in_sequence(vars: dict[str, Any], prompt: str) -> str:
    """The next answer of the sequence given to ``reset`` (call order)."""
    with _LOCK:
        PROMPTS.append(prompt)
        return _SEQUENCE.pop(0) if _SEQUENCE else "PASS"


async def slow_pass(vars: dict[str, Any], prompt: str) -> str:
    """PASS after a short wait, counting how many calls are in flight at once."""
    global _ACTIVE, MAX_ACTIVE
    _ACTIVE += 1
    MAX_ACTIVE = max(MAX_ACTIVE, _ACTIVE)
    try:
        await asyncio.sleep(0.01)
        return "PASS"
    finally:
        _ACTIVE -= 1


def _shown(prompt: str) -> tuple[str, str]:
    first = re.search(r"\[Output A\]\n(.*?)\n\n\[Output B\]", prompt, re.DOTALL)
    second = re.search(r"\[Output B\]\n(.*?)\n\nAnswer", prompt, re.DOTALL)
    return (first.group(1) if first else ""), (second.group(1) if second else "")


def prefers_first(vars: dict[str, Any], prompt: str) -> str:
    """A judge with pure position bias: always the output shown first."""
    with _LOCK:
        PROMPTS.append(prompt)
    return '{"reason": "the first one", "winner": "A"}'


def prefers_longer(vars: dict[str, Any], prompt: str) -> str:
    """A consistent judge: the longer output wins, equal lengths tie."""
    with _LOCK:
        PROMPTS.append(prompt)
    first, second = _shown(prompt)
    if len(first) == len(second):
        return "Winner: tie"
    return "[[A]]" if len(first) > len(second) else "[[B]]"


def app_under_test(vars: dict[str, Any]) -> str:
    """The feature under test: counts its calls, so a test can assert a regrade never calls it."""
    with _LOCK:
        APP_CALLS.append(dict(vars))
    word = str(vars.get("word", ""))
    return f"a good answer about {word}" if word.startswith("g") else f"a poor answer about {word}"
