"""A scripted drafting model, a scripted judge and a small labelled run for the rubric-draft tests; the models
are named as ``python:tests.soft.rubric_fakes:fn``.

- ``drafter`` answers attempt k (asked with seed ``seed + k``) with ``SCRIPT[k]`` (the last one past the end) and
  keeps the prompts it was asked.
- ``quoted_words`` is a judge: PASS when the judged output holds every phrase the criterion quotes ('...'), so a
  drafted criterion such as ``The reply says 'good answer'`` decides what it passes.
"""

from __future__ import annotations

import re
import threading
from pathlib import Path

from mendoza.api import run_suite
from mendoza.core import Case, GraderSpec, Suite, Variant
from mendoza.soft import record_label
from mendoza.store import Store

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


def drafter_and_judge(prompt: str, seed: int) -> str:
    """Both roles in one model, as a suite's judge model would be: a judge prompt (it has ``[Criterion]``) is
    judged by ``quoted_words``, any other prompt is drafted by ``drafter``."""
    return quoted_words(prompt) if "[Criterion]" in prompt else drafter(prompt, seed)


#: The replies of the labelled run, by case: (output, the person's verdict, the person's note).
REPLIES = {
    "c1": ("a good answer: refund sent", True, "answers it"),
    "c2": ("a good answer: tracking link", True, ""),
    "c3": ("a good answer: reset steps", True, "clear"),
    "c4": ("a good answer: address changed", True, ""),
    "c5": ("a good answer about nothing asked", False, "off topic"),
    "c6": ("no idea", False, "no answer"),
    "c7": ("ask someone else", False, "rude"),
    "c8": ("a good answer, wrong order", False, "wrong order"),
}
FAKES = "python:tests.soft.rubric_fakes"


def labelled_run(db: Path, graders: tuple[GraderSpec, ...] | None = None, labels: int = len(REPLIES)) -> str:
    """A finished run in ``db`` of one variant echoing each case's reply, the first ``labels`` cases labelled as
    ``REPLIES`` says (with the notes); returns its id. ``graders``: the suite's (default: a ``contains``)."""
    suite = Suite(
        name="replies",
        description="Answer a customer's question.",
        cases=tuple(Case(id=key, vars={"question": f"question {key}", "reply": value[0]})
                    for key, value in REPLIES.items()),
        variants=(Variant(id="echo", model="mock", params={"output": "{{ reply }}"}),),
        graders=graders or (GraderSpec(type="contains", params={"value": "good"}, name="says-good"),),
        repeats=1,
    )
    run = run_suite(suite, db=db)
    with Store(db) as store:
        for item in store.grades.regrade_inputs(run.id):
            if int(item.case_id[1:]) <= labels:
                _, passed, note = REPLIES[item.case_id]
                record_label(store, item.sample_id, passed=passed, note=note, author="ana")
    return run.id
