"""A run with everything a run file must carry, for the tests of portable runs (``mendoza.store.transfer``,
``mendoza export -o FILE.mdz``, ``mendoza import``): steps (and a step grader), an errored sample that kept the
steps it got through, a note (a lone surrogate stored as U+FFFD), a judge's regrade (a grader set with
structured detail), pairwise judgements, and people's labels (a pass, a fail with a score, a cleared one)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from mendoza.api import run_suite
from mendoza.core import Case, GraderSpec, Suite, Variant
from mendoza.soft import clear_label, record_label, regrade_run
from mendoza.store import Store
from tests.graders import judges
from tests.soft_suites import WORDS, J, rubric_spec

APP = '''
import mendoza


def answer(vars):
    word = vars["word"]
    with mendoza.step("lookup", kind="tool", input={"word": word}) as found:
        found.output = "GOOD" if word in ("good", "great", "gold") else word.upper()
    if word == "dull":
        raise ValueError("no answer for dull")
    with mendoza.step("answer", kind="llm", input=word) as said:
        said.output = f"a good answer about {word}" if word.startswith("g") else f"a poor answer about {word}"
        said.tokens_in, said.tokens_out, said.cost = 10, 4, 0.001
    return said.output + ("\\ud800" if word == "grim" else "")
'''

PAIRWISE = GraderSpec(type="pairwise", params={"judge": f"{J}:prefers_longer"}, name="longer")
#: Replaces the suite's ``lookup-good``: the samples of 'grim' (the old one failed them, ``says-good`` passed
#: them) no longer have graders that disagree, though the old grades stay beside the new ones.
LOOKUP_UPPER = GraderSpec(type="regex", params={"pattern": "^[A-Z]+$"}, name="lookup-good", step="lookup")


def rich_suite(tmp_path: Path) -> Suite:
    """Two variants over ``WORDS``, two repeats: a ``python:`` app with steps and a mock."""
    app = tmp_path / "transfer_app.py"
    app.write_text(textwrap.dedent(APP), encoding="utf-8")
    return Suite(
        name="portable",
        cases=tuple(Case(id=word, vars={"word": word}, tags=("g",) if word.startswith("g") else ()) for word in WORDS),
        variants=(
            Variant(id="app", model=f"python:{app}:answer"),
            Variant(id="chatty", model="mock", params={"output": "a good and rather long answer about {{ word }}"}),
        ),
        graders=(
            GraderSpec(type="contains", params={"value": "good"}, name="says-good"),
            GraderSpec(type="equals", params={"value": "GOOD"}, name="lookup-good", step="lookup"),
        ),
        repeats=2,
    )


def make_rich_run(store: Store, tmp_path: Path) -> str:
    """Run ``rich_suite`` into ``store`` (after an unrelated run, so its ids are not those of a fresh store),
    regrade it with a judge, a pairwise judge and a changed step grader, and label three samples; returns the
    run's id."""
    plain = Suite(name="before", cases=(Case(id="x", vars={"word": "x"}),),
                  variants=(Variant(id="v", model="echo", prompt="{{ word }}"),), repeats=3)
    run_suite(plain, db=store)
    run = run_suite(rich_suite(tmp_path), db=store)
    judges.reset()
    regrade_run(store, run.id, graders=[rubric_spec()])
    regrade_run(store, run.id, graders=[PAIRWISE])
    regrade_run(store, run.id, graders=[LOOKUP_UPPER])
    bad = store.browse.case_samples(run.id, "bad", ("app", "chatty"))
    samples = {(s.variant_id, s.case_id, s.repeat): s for s in bad}
    first, second = samples[("app", "bad", 0)].id, samples[("chatty", "bad", 1)].id
    record_label(store, first, passed=True, note="fine by me", author="ana")
    record_label(store, second, passed=False, score=0.2, note="too long", author="ben")
    record_label(store, samples[("app", "bad", 1)].id, passed=True, author="ana")
    clear_label(store, samples[("app", "bad", 1)].id, note="changed my mind", author="ana")
    return run.id
