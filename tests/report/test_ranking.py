"""Ranking variants from pairwise judgements: Bradley-Terry on the decided pairs, position bias reported."""

from __future__ import annotations

from pathlib import Path

import pytest

from mendoza.api import run_suite
from mendoza.core import Case, GraderSpec, Suite, Variant
from mendoza.errors import ConfigError
from mendoza.report import rank_variants
from mendoza.soft import judge_run_pairs
from mendoza.stats import bradley_terry, win_matrix
from mendoza.store import Store
from tests.soft_suites import J


def three_variants(judge: str) -> Suite:
    return Suite(
        name="rank",
        cases=tuple(Case(id=f"c{i}", vars={"n": i}) for i in range(6)),
        variants=(
            Variant(id="short", model="mock", params={"outputs": ["ok", "fine, sure"]}),
            Variant(id="medium", model="mock", params={"outputs": ["a medium answer", "ok"]}),
            Variant(id="long", model="mock", params={"outputs": ["a long and careful answer here", "fine, sure"]}),
        ),
        graders=(GraderSpec(type="pairwise", params={"judge": judge}, name="pw"),),
        repeats=2,
    )


def test_ratings_follow_the_judge_and_match_bradley_terry(tmp_path: Path) -> None:
    with Store(tmp_path / "m.db") as store:
        run = run_suite(three_variants(f"{J}:prefers_longer"), db=store)
        assert store.pairwise.judgements(run.id) == []  # the run itself does not judge pairs
        with pytest.raises(ConfigError, match="no pairwise grader named 'x'"):
            rank_variants(store, run.id, "x")
        judge_run_pairs(store, run.id)
        ranking = rank_variants(store, run.id, n_boot=100)
        judgements = store.pairwise.judgements(run.id)
        assert ranking.judgements == len(judgements) == 3 * 6 * 2 and ranking.errors == 0
        order = ["short", "medium", "long"]
        wins = win_matrix(
            [order.index(j.variant_a) for j in judgements], [order.index(j.variant_b) for j in judgements],
            [{"a": 1.0, "b": 0.0, "tie": 0.5}[j.winner or "tie"] for j in judgements], 3,
        )
        expected = dict(zip(order, bradley_terry(wins), strict=True))
        assert {r.variant_id: round(r.rating.estimate, 6) for r in ranking.ratings} == {
            k: round(v, 6) for k, v in expected.items()
        }
        assert next(r.variant_id for r in ranking.ratings) == "long" and ranking.inconsistent == 0
        assert all(r.rating.low <= r.rating.estimate <= r.rating.high for r in ranking.ratings)
        assert sum(p.a_wins + p.b_wins + p.ties for p in ranking.pairs) == ranking.judgements


def test_a_position_biased_judge_ranks_nothing(tmp_path: Path) -> None:
    with Store(tmp_path / "m.db") as store:
        run = run_suite(three_variants(f"{J}:prefers_first"), db=store)
        judge_run_pairs(store, run.id)
        ranking = rank_variants(store, run.id, n_boot=20)
        assert ranking.inconsistent == ranking.judgements == 36 and ranking.first_favoured == 36
        assert all(r.ties == 24 and r.rating.estimate == pytest.approx(1000.0) for r in ranking.ratings)
