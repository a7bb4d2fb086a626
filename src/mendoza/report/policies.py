"""Designs around a measured model, replayed from a finished run: no model is called again.

A *policy* is what the product does with the variants' outputs: use one variant; fall back to another when it
errors; escalate to another variant or a person when a run-time check flags the output (or its score is below
a threshold); take the majority of k samples; take the first of k samples a check accepts; have a person audit
a share at random. Each policy is replayed on the run's stored samples, case by case and repeat by repeat
(variant A's repeat r beside variant B's repeat r; the k samples of a vote are drawn from one case's repeats),
so the correlation between one case's repeats is kept. A person is assumed right.

Replayed facts: a sample *succeeds* when its verdict is a pass (a person's label where there is one); an
errored or undecided sample does not succeed (a fallback is the design for errors). A *run-time check* is a
grader marked ``runtime`` (or named with ``--check``): one that needs no reference answer, so a product could
run it (``config.grader_specs.needs_reference`` refuses the others).

This module only replays (``Trial`` in, per-case outcomes out); ``report/design.py`` enumerates the policies
of a run, measures them and finds the frontier.
"""

from __future__ import annotations

import itertools
import random
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from mendoza.core import HumanReview

__all__ = [
    "Check",
    "Outcome",
    "Policy",
    "Trial",
    "audit",
    "best_of",
    "cascade",
    "combinations_of",
    "person_only",
    "single",
    "vote",
]


@dataclass(frozen=True, slots=True)
class Check:
    """A run-time check's verdict on one sample (``passed`` None: it could not decide) and its score."""

    passed: bool | None
    score: float | None


@dataclass(frozen=True, slots=True)
class Trial:
    """One stored sample as a policy sees it."""

    ok: bool
    errored: bool
    output: str | None
    cost: float
    latency_ms: float
    checks: Mapping[str, Check]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one request served by a policy came to: success (a probability for an audit), what it cost
    (a person's review included), how long it took, and whether (or with what chance) a person saw it."""

    success: float
    cost: float
    latency_ms: float
    human: float


#: A policy replays one case: from each variant's trials of that case (by repeat), its outcomes.
Replay = Callable[[Mapping[str, Sequence[Trial]]], list[Outcome]]


@dataclass(frozen=True, slots=True)
class Policy:
    """A design: its name (as printed), its kind, the variants it uses, and how to replay it."""

    name: str
    kind: str
    variants: tuple[str, ...]
    replay: Replay
    #: The k of a vote or best-of-k (the repeats a case needs), else 1.
    needs_repeats: int = 1


def single(variant: str) -> Policy:
    """Use one variant (today's figure)."""

    def replay(trials: Mapping[str, Sequence[Trial]]) -> list[Outcome]:
        return [Outcome(float(t.ok), t.cost, t.latency_ms, 0.0) for t in trials[variant]]

    return Policy(variant, "single", (variant,), replay)


def person_only(variant: str, human: HumanReview) -> Policy:
    """A person answers every request (no model): the reference every design with a person is measured
    against. Replayed over ``variant``'s trials only to count requests."""

    def replay(trials: Mapping[str, Sequence[Trial]]) -> list[Outcome]:
        return [Outcome(1.0, human.cost, human.seconds * 1000.0, 1.0) for _ in trials[variant]]

    return Policy("a person answers every request", "human only", (variant,), replay)


def flagged(trial: Trial, check: str | None, threshold: float | None) -> bool:
    """Whether a policy escalates ``trial``: it errored, or the check did not pass (or scored below
    ``threshold``). Without a check, only an error escalates (a fallback)."""
    if trial.errored:
        return True
    if check is None:
        return False
    found = trial.checks.get(check)
    if found is None or found.passed is None:
        return True  # a check that could not decide escalates: the safe side
    if threshold is not None:
        return found.score is None or found.score < threshold
    return not found.passed


def cascade(
    first: str,
    then: Sequence[str],
    check: str | None,
    human: HumanReview | None,
    threshold: float | None = None,
) -> Policy:
    """Try ``first``; when it is flagged (see ``flagged``) try each variant of ``then`` in turn (each flagged by
    the same check), and after the last a person when ``human`` is given. Costs and latencies add up along the
    way; repeat r of each variant is used together."""
    chain = (first, *then)
    trigger = "error" if check is None else (check if threshold is None else f"{check} < {threshold:g}")
    target = " -> ".join([*chain, *(["human"] if human is not None else [])])
    name = f"{target} (on {trigger})"

    def replay(trials: Mapping[str, Sequence[Trial]]) -> list[Outcome]:
        outcomes = []
        for row in zip(*(trials[variant] for variant in chain), strict=False):
            cost = latency = 0.0
            served: Outcome | None = None
            for index, trial in enumerate(row):
                cost += trial.cost
                latency += trial.latency_ms
                last = index == len(row) - 1
                if not flagged(trial, check, threshold) or (last and human is None):
                    served = Outcome(float(trial.ok), cost, latency, 0.0)
                    break
            if served is None:
                assert human is not None
                served = Outcome(1.0, cost + human.cost, latency + human.seconds * 1000.0, 1.0)
            outcomes.append(served)
        return outcomes

    kind = "fallback" if check is None and human is None else ("human review" if not then else "cascade")
    return Policy(name, kind, chain, replay)


def combinations_of(repeats: int, k: int, limit: int = 200, seed: int = 0) -> list[tuple[int, ...]]:
    """The sets of k repeat indices a vote draws from one case: all of them, or ``limit`` of them drawn at
    random (seeded) when there are more."""
    every = itertools.combinations(range(repeats), k)
    count = 1
    for step in range(k):
        count = count * (repeats - step) // (step + 1)
    if count <= limit:
        return list(every)
    rng = random.Random(seed)
    return sorted(rng.sample(list(every), limit)) if count <= 50_000 else [
        tuple(sorted(rng.sample(range(repeats), k))) for _ in range(limit)
    ]


def _normal(output: str | None) -> str | None:
    return None if output is None else " ".join(output.split()).casefold()


def _groups(trials: Sequence[Trial], k: int) -> Iterator[list[Trial]]:
    for picked in combinations_of(len(trials), k):
        yield [trials[index] for index in picked]


def vote(variant: str, k: int, human: HumanReview | None = None, agree: int | None = None) -> Policy:
    """Ask ``variant`` k times (in parallel) and answer with the most common output (outputs compared with
    case and runs of whitespace ignored; a tie goes to the earliest; errored samples do not vote). With
    ``human``, a person answers when fewer than ``agree`` of the k outputs agree (default: all k, unanimity):
    self-consistency as a confidence."""
    needed = k if agree is None else agree

    def replay(trials: Mapping[str, Sequence[Trial]]) -> list[Outcome]:
        outcomes = []
        for group in _groups(trials[variant], k):
            cost = sum(trial.cost for trial in group)
            latency = max(trial.latency_ms for trial in group)
            answers = [trial for trial in group if not trial.errored and trial.output is not None]
            counts = Counter(_normal(trial.output) for trial in answers)
            if human is not None and max(counts.values(), default=0) < needed:
                outcomes.append(Outcome(1.0, cost + human.cost, latency + human.seconds * 1000.0, 1.0))
                continue
            if not counts:
                outcomes.append(Outcome(0.0, cost, latency, 0.0))
                continue
            top = max(counts.values())
            chosen = next(trial for trial in answers if counts[_normal(trial.output)] == top)
            outcomes.append(Outcome(float(chosen.ok), cost, latency, 0.0))
        return outcomes

    unless = "unanimous" if needed == k else f"{needed} of {k} agree"
    name = f"vote of {k} x {variant}" + (f" (human unless {unless})" if human is not None else "")
    return Policy(name, "vote" if human is None else "vote + human", (variant,), replay, needs_repeats=k)


def best_of(variant: str, k: int, check: str) -> Policy:
    """Ask ``variant`` k times and answer with the first output ``check`` accepts (the best score when the
    check scores), else the first output: a run-time check as the verifier."""

    def replay(trials: Mapping[str, Sequence[Trial]]) -> list[Outcome]:
        outcomes = []
        for group in _groups(trials[variant], k):
            cost = sum(trial.cost for trial in group)
            latency = max(trial.latency_ms for trial in group)
            accepted = [trial for trial in group if not flagged(trial, check, None)]
            scored = [trial for trial in accepted if trial.checks[check].score is not None]
            if scored:
                chosen = max(scored, key=lambda trial: trial.checks[check].score or 0.0)
            else:
                chosen = accepted[0] if accepted else group[0]
            outcomes.append(Outcome(float(chosen.ok), cost, latency, 0.0))
        return outcomes

    return Policy(f"best of {k} x {variant} (by {check})", "best-of-k", (variant,), replay, needs_repeats=k)


def audit(variant: str, share: float, human: HumanReview) -> Policy:
    """Use ``variant`` and have a person check a random ``share`` of its outputs before they are sent (and fix
    them): in expectation, a request succeeds with ``ok + share * (1 - ok)`` and costs ``share`` of a review.
    Its latency percentiles are the variant's: the reviewed ``share`` waits ``human.seconds`` more."""

    def replay(trials: Mapping[str, Sequence[Trial]]) -> list[Outcome]:
        return [
            Outcome(float(trial.ok) + share * (1.0 - float(trial.ok)), trial.cost + share * human.cost,
                    trial.latency_ms, share)
            for trial in trials[variant]
        ]

    return Policy(f"{variant} + human audit of {share:.0%}", "audit", (variant,), replay)
