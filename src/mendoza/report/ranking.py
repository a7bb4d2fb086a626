"""Variants ranked from a judge's pairwise preferences, by Bradley-Terry with bootstrap intervals.

Every decided judgement (A wins, B wins, or a tie, which counts half a win each) is one comparison. Ratings are
on Chatbot Arena's scale (mean 1000; 400 points mean 10:1 odds of being preferred), with percentile intervals
from a bootstrap that resamples *cases* (the comparisons of one case are correlated). The report also shows how
often the judge contradicted itself when the order was swapped, and which position it then favoured: a judge
that mostly prefers whichever output comes first is measuring position, not quality.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

from mendoza.core import GraderSpec
from mendoza.errors import ConfigError
from mendoza.graders.judge import DEFAULT_JUDGE_MODEL
from mendoza.graders.kinds import kind_of
from mendoza.stats import Interval, bradley_terry, bradley_terry_intervals, win_matrix
from mendoza.store import Store

__all__ = ["PairTally", "Ranking", "VariantRating", "rank_variants"]


@dataclass(frozen=True)
class VariantRating:
    """One variant's rating, with its wins, losses and ties against the others."""

    variant_id: str
    rating: Interval
    wins: int
    losses: int
    ties: int

    @property
    def comparisons(self) -> int:
        """How many decided judgements the variant took part in."""
        return self.wins + self.losses + self.ties


@dataclass(frozen=True)
class PairTally:
    """Two variants head to head: A's wins, B's wins, ties."""

    variant_a: str
    variant_b: str
    a_wins: int
    b_wins: int
    ties: int


@dataclass(frozen=True)
class Ranking:
    """A run's variants ranked by a pairwise judge, best first."""

    run_id: str
    grader: str
    judge: str
    ratings: list[VariantRating]
    pairs: list[PairTally]
    judgements: int
    errors: int
    inconsistent: int
    first_favoured: int
    second_favoured: int
    confidence: float
    notes: list[str]

    @property
    def inconsistency(self) -> float:
        """Share of decided judgements in which swapping the order changed the judge's answer."""
        return self.inconsistent / self.judgements if self.judgements else math.nan


def _pairwise_spec(store: Store, run_id: str, grader: str | None) -> GraderSpec:
    specs = [spec for spec in store.grades.grader_set(run_id) if kind_of(spec.type) == "pairwise"]
    if grader is not None:
        specs = [spec for spec in specs if spec.name == grader]
    if not specs:
        raise ConfigError(
            f"run {run_id} has no pairwise grader{f' named {grader!r}' if grader else ''}: add one with "
            f"mendoza regrade {run_id} --grader 'pairwise: Which reply is better?'"
        )
    if len(specs) > 1:
        raise ConfigError(f"run {run_id} has several pairwise graders; name one: {', '.join(s.name for s in specs)}")
    return specs[0]


def rank_variants(
    store: Store,
    run_ref: str,
    grader: str | None = None,
    *,
    confidence: float | None = None,
    n_boot: int = 1000,
    seed: int = 0,
) -> Ranking:
    """Rank a run's variants from the judgements of its pairwise grader (see the module)."""
    run = store.runs.get(run_ref)
    level = confidence if confidence is not None else store.runs.suite(run.id).confidence
    spec = _pairwise_spec(store, run.id, grader)
    judgements = store.pairwise.judgements(run.id, grader_hash=spec.definition_hash())
    decided = [item for item in judgements if item.winner is not None]
    variants = [vid for vid in run.variant_ids if any(vid in (j.variant_a, j.variant_b) for j in decided)]
    index = {vid: position for position, vid in enumerate(variants)}
    first = [index[j.variant_a] for j in decided]
    second = [index[j.variant_b] for j in decided]
    outcome = [1.0 if j.winner == "a" else 0.0 if j.winner == "b" else 0.5 for j in decided]
    notes: list[str] = []
    ratings: list[Interval] = []
    if len(variants) >= 2:
        wins = win_matrix(first, second, outcome, len(variants))
        prior = 0.0
        try:
            bradley_terry(wins)
        except ValueError:
            prior = 0.5
            notes.append(
                "a variant won (or lost) every comparison, so no finite maximum-likelihood rating exists; "
                "ratings are regularised with half a pseudo-tie per pair"
            )
        ratings = bradley_terry_intervals(
            first, second, outcome, len(variants), [j.case_id for j in decided], level, n_boot, seed, prior
        )
    tallies: dict[str, Counter[str]] = {vid: Counter() for vid in variants}
    pair_counts: dict[tuple[str, str], Counter[str]] = {}
    for item in decided:
        counts = pair_counts.setdefault((item.variant_a, item.variant_b), Counter())
        counts[item.winner or ""] += 1
        if item.winner == "tie":
            tallies[item.variant_a]["ties"] += 1
            tallies[item.variant_b]["ties"] += 1
        else:
            winner, loser = (item.variant_a, item.variant_b) if item.winner == "a" else (item.variant_b, item.variant_a)
            tallies[winner]["wins"] += 1
            tallies[loser]["losses"] += 1
    rated = [
        VariantRating(vid, ratings[index[vid]], tallies[vid]["wins"], tallies[vid]["losses"], tallies[vid]["ties"])
        for vid in variants
    ] if ratings else []
    rated.sort(key=lambda item: -item.rating.estimate)
    pairs = [PairTally(a, b, c["a"], c["b"], c["tie"]) for (a, b), c in sorted(pair_counts.items())]
    inconsistent = [j for j in decided if j.first_order != j.second_order]
    first_favoured = sum(1 for j in inconsistent if (j.first_order, j.second_order) == ("a", "b"))
    second_favoured = sum(1 for j in inconsistent if (j.first_order, j.second_order) == ("b", "a"))
    errors = len(judgements) - len(decided)
    if not decided:
        notes.append(f"no decided judgements yet: run `mendoza rank {run.id}` to judge the pairs")
    if errors:
        notes.append(f"{errors} judgements failed (unreadable or a judge error) and are left out")
    if decided:
        notes.append(
            "this ranking rests on the judge, whose agreement with people is unmeasured here (people label "
            "samples, not pairs): check it on a rubric with `mendoza calibrate`, or by reading the pairs"
        )
    judge = str(spec.params.get("judge", DEFAULT_JUDGE_MODEL))
    if isinstance(spec.params.get("judge"), dict):
        judge = str(spec.params["judge"].get("name") or spec.params["judge"].get("model"))
    return Ranking(run.id, spec.name, judge, rated, pairs, len(decided), errors, len(inconsistent),
                   first_favoured, second_favoured, level, notes)
