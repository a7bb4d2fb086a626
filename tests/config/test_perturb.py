"""Model-free perturbations: each named one changes the text, the same way for the same (case, name, seed),
and never the expected answer."""

from __future__ import annotations

import pytest

from mendoza.config.perturb import DISTRACTORS, PERTURBATIONS, parse_perturbations, perturb_case, perturb_text
from mendoza.core import Case
from mendoza.errors import ConfigError

TEXT = "My order arrived broken, the box was wet; I want a refund. Please answer soon."
CASE = Case(id="c1", vars={"ticket": TEXT, "lang": "en", "count": 3}, expected="refund", tags=("billing",))


@pytest.mark.parametrize("name", PERTURBATIONS)
def test_each_perturbation_changes_the_text_and_not_the_expected_answer(name: str) -> None:
    out = perturb_case(CASE, name, seed=1, names=["ticket"])
    assert out is not None
    assert out.id == f"c1~{name}"
    assert out.vars["ticket"] != TEXT
    assert out.vars["lang"] == "en" and out.vars["count"] == 3
    assert out.expected == "refund"
    assert out.tags == ("billing", "perturbed", name)


@pytest.mark.parametrize("name", PERTURBATIONS)
def test_each_perturbation_is_deterministic_per_case_name_and_seed(name: str) -> None:
    first = perturb_case(CASE, name, seed=7)
    assert first == perturb_case(CASE, name, seed=7)
    others = {perturb_text(TEXT, name, seed, key="c1\x00ticket") for seed in range(20)}
    if name == "reorder":  # two sentences have one swap only; four clauses have several
        others = {perturb_text("a, b, c, d", name, seed) for seed in range(20)}
    if name != "casing":  # only four casings exist, and a few of them may coincide
        assert len(others) > 1, f"{name} ignores its seed"


def test_the_perturbations_do_what_they_say() -> None:
    typo = perturb_text(TEXT, "typos", 0)
    assert abs(len(typo) - len(TEXT)) <= 3 and typo.lower() != TEXT.lower()
    cased = perturb_text(TEXT, "casing", 0)
    assert cased.lower() == TEXT.lower() or cased.title() == cased
    spaced = perturb_text(TEXT, "whitespace", 0)
    assert spaced.split() == TEXT.split() and spaced != TEXT
    assert perturb_text("no marks here", "punctuation", 0) != "no marks here"
    stripped = perturb_text(TEXT, "punctuation", 0)
    assert stripped.split(" ")[0] == "My" and len(stripped) < len(TEXT)
    reordered = perturb_text(TEXT, "reorder", 0)
    assert sorted(reordered.split()) == sorted(TEXT.split()) and reordered != TEXT
    clauses = perturb_text("red, green; blue", "reorder", 3)
    assert sorted(clauses.replace(",", ";").split("; ")) == ["blue", "green", "red"]
    distracted = perturb_text(TEXT, "distractor", 0)
    assert distracted.startswith(TEXT) and distracted[len(TEXT) + 1 :] in DISTRACTORS


def test_a_case_the_perturbation_cannot_change_is_left_out() -> None:
    single = Case(id="s", vars={"ticket": "refund please"})
    assert perturb_case(single, "reorder", 0) is None
    assert perturb_case(Case(id="n", vars={"count": 3}), "typos", 0) is None
    assert perturb_case(CASE, "typos", 0, names=["missing"]) is None


def test_names_are_checked() -> None:
    assert parse_perturbations("typos, casing,typos") == ["typos", "casing"]
    with pytest.raises(ConfigError, match=r"unknown perturbation\(s\) 'typo' \(known: typos, casing"):
        parse_perturbations("typo,casing")
