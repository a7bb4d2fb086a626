"""Runs written straight into a store for the item analysis tests: per (case, variant) how many of the repeats
pass, with chosen outputs, and a synthetic benchmark whose truth is known (latent difficulties, variants of
known skill)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import numpy.typing as npt

from mendoza.core import Case, Grade, GraderSpec, Sample, Suite, Variant
from mendoza.store import Store

#: The small hand-computed run the item tests share: three variants, passes of 2 repeats per case
#: (weak, mid, strong). Totals: weak 6, mid 8, strong 9 of 14. One case always fails ("wrong"), one always
#: passes ("easy"), one is reversed ("rev"), one is flaky.
VARIANTS = ["weak", "mid", "strong"]
SMALL = {
    "easy": [2, 2, 2],
    "wrong": [0, 0, 0],
    "sep": [0, 1, 2],
    "sep2": [0, 2, 2],
    "sep3": [1, 1, 2],
    "rev": [2, 1, 0],
    "flaky": [1, 1, 1],
}

GRADER = GraderSpec(type="equals", params={"value": "{{ expected }}"}, name="correct")

#: (case, variant, repeat) -> the output of a failing sample (default: "wrong <case>-<variant>-<repeat>").
Outputs = Callable[[str, str, int], str]


def items_suite(case_ids: Sequence[str], variant_ids: Sequence[str], repeats: int, *, name: str = "items",
                expected: Mapping[str, str] | None = None) -> Suite:
    """A suite of these cases (expected ``right`` unless given) and echo variants."""
    return Suite(
        name=name,
        cases=tuple(Case(id=case_id, vars={"q": case_id}, expected=(expected or {}).get(case_id, "right"))
                    for case_id in case_ids),
        variants=tuple(Variant(id=variant_id, model="echo") for variant_id in variant_ids),
        graders=(GRADER,),
        repeats=repeats,
    )


def write_counts(
    store: Store,
    passes: Mapping[str, Sequence[int]],
    variant_ids: Sequence[str],
    repeats: int,
    *,
    name: str = "items",
    outputs: Outputs | None = None,
    errors: Mapping[tuple[str, str], int] | None = None,
    run_id: str | None = None,
    expected: Mapping[str, str] | None = None,
) -> str:
    """A finished run where case ``c`` passes ``passes[c][v]`` of its ``repeats`` on variant ``v`` (the
    first ones); ``errors[(c, v)]`` of the failing repeats error instead. Returns the run id."""
    suite = items_suite(list(passes), variant_ids, repeats, name=name, expected=expected)
    run = store.runs.create(suite, run_id=run_id)
    hash_ = GRADER.definition_hash()
    samples = []
    for case_id, counts in passes.items():
        for variant_id, count in zip(variant_ids, counts, strict=True):
            errored = (errors or {}).get((case_id, variant_id), 0)
            for repeat in range(repeats):
                passed = repeat < count
                if not passed and repeat >= repeats - errored:
                    samples.append(Sample(case_id, variant_id, repeat, "p", None, error="boom"))
                    continue
                output = "right" if passed else (
                    outputs(case_id, variant_id, repeat) if outputs else f"wrong {case_id}-{variant_id}-{repeat}"
                )
                grade = Grade("correct", passed, float(passed), grader_hash=hash_)
                samples.append(Sample(case_id, variant_id, repeat, "p", output, grades=(grade,)))
    store.samples.write(run.id, samples)
    store.runs.set_status(run.id, "complete")
    return run.id


def synthetic_counts(
    n_cases: int = 200, n_variants: int = 6, repeats: int = 3, seed: int = 0
) -> tuple[dict[str, list[int]], list[str], npt.NDArray[np.float64]]:
    """A benchmark whose truth is known: case ``c`` has a latent difficulty ``b_c ~ N(0, 1.5)`` and a slope
    ``a_c ~ lognormal(0, 0.5)``, variant ``v`` a skill ``theta_v`` evenly from -1.5 to 1.5; a sample passes
    with probability ``1 / (1 + exp(-a_c (theta_v - b_c)))`` (a two-parameter logistic item response model).
    Returns the passes per case and variant, the variant ids, and the true pass probabilities."""
    rng = np.random.default_rng(seed)
    difficulty = rng.normal(0.0, 1.5, n_cases)
    slope = np.exp(rng.normal(0.0, 0.5, n_cases))
    skill = np.linspace(-1.5, 1.5, n_variants)
    truth = 1.0 / (1.0 + np.exp(-slope[:, None] * (skill[None, :] - difficulty[:, None])))
    passes = rng.binomial(repeats, truth)
    variant_ids = [f"v{index}" for index in range(n_variants)]
    return {f"case-{index:03d}": [int(x) for x in passes[index]] for index in range(n_cases)}, variant_ids, truth
