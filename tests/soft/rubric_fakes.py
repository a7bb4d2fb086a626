"""A scripted drafting model and a scripted judge for the rubric-draft tests, named as
``python:tests.soft.rubric_fakes:fn``.

- ``drafter`` answers attempt k (asked with seed ``seed + k``) with ``SCRIPT[k]`` (the last one past the end) and
  keeps the prompts it was asked.
- ``quoted_words`` is a judge: PASS when the judged output holds every phrase the criterion quotes ('...'), so a
  drafted criterion such as ``The reply says 'good answer'`` decides what it passes.
"""

from __future__ import annotations

import re
import threading

SCRIPT: list[str] = ['["The reply says \'good answer\'"]']
PROMPTS: list[str] = []
_LOCK = threading.Lock()


def drafter(prompt: str, seed: int) -> str:
    """The scripted answer for this attempt (``seed`` counts attempts from the command's seed 0)."""
    with _LOCK:
        PROMPTS.append(prompt)
    return SCRIPT[min(seed, len(SCRIPT) - 1)]


def quoted_words(prompt: str) -> str:
    """PASS when the output holds every phrase quoted in the criterion (a JSON answer, like a chat judge)."""
    output = re.search(r"\[Output\]\n(.*?)\n\n", prompt, re.DOTALL)
    criterion = re.search(r"\[Criterion\]\n(.*?)\n", prompt)
    text = output.group(1) if output else ""
    phrases = re.findall(r"'([^']+)'", criterion.group(1) if criterion else "")
    verdict = "PASS" if phrases and all(phrase in text for phrase in phrases) else "FAIL"
    return f'{{"reason": "looked for {phrases}", "verdict": "{verdict}"}}'
