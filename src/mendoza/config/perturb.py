"""Model-free perturbations of a case's text vars, for robustness suites.

Each perturbation is named and seeded: ``perturb_case(case, name, seed)`` is the same case every time for the
same (case id, perturbation, seed), so a robustness suite built from it is reproducible. The perturbed case has
the id ``<id>~<name>``, the tags ``perturbed`` and ``<name>`` added, and its expected answer unchanged (the
perturbation must not change what the right answer is).

- ``typos``: swap, drop or duplicate a few letters (about one in twenty, at most three per text);
- ``casing``: all lower case, all upper case, title case or swapped case;
- ``whitespace``: doubled spaces between some words and spaces around the text;
- ``punctuation``: drop the punctuation, or add some where there is none;
- ``reorder``: swap two sentences, else two clauses split on ``,`` or ``;`` (a text with one clause only is left
  alone, and the case is not perturbed);
- ``distractor``: append an irrelevant sentence from a fixed list.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterable, Sequence

from mendoza.core import Case
from mendoza.errors import ConfigError

__all__ = ["DISTRACTORS", "PERTURBATIONS", "parse_perturbations", "perturb_case", "perturb_text"]

#: Irrelevant sentences ``distractor`` appends (fixed, so a seed picks the same one on every machine).
DISTRACTORS: tuple[str, ...] = (
    "By the way, the weather has been lovely this week.",
    "My cat just knocked a glass off the table.",
    "I am writing this from a train.",
    "Unrelated, but the coffee machine on floor 3 is broken again.",
    "Sorry if this is a bit long.",
    "I also like the new logo, for what it is worth.",
    "Our office moves to a new building next month.",
    "Today is my colleague's birthday.",
)

_SENTENCE = re.compile(r"(?<=[.!?])\s+")
_CLAUSE = re.compile(r"(\s*[,;]\s*)")
_PUNCT = re.compile(r"[.,;:!?]")


def _typos(text: str, rng: random.Random) -> str:
    chars = list(text)
    letters = [i for i, c in enumerate(chars) if c.isalpha()]
    if not letters:
        return text
    count = min(3, max(1, len(letters) // 20))
    # From the end, so that an earlier position is not moved by a later edit.
    for position in sorted(rng.sample(letters, count), reverse=True):
        kind = rng.choice(("swap", "drop", "duplicate"))
        if kind == "swap" and position + 1 < len(chars) and chars[position + 1] != chars[position]:
            chars[position], chars[position + 1] = chars[position + 1], chars[position]
        elif kind == "drop" and len(letters) > 1:
            del chars[position]
        else:
            chars.insert(position, chars[position])
    return "".join(chars)


def _casing(text: str, rng: random.Random) -> str:
    modes: list[Callable[[str], str]] = [str.lower, str.upper, str.title, str.swapcase]
    rng.shuffle(modes)
    for mode in modes:
        changed = mode(text)
        if changed != text:
            return changed
    return text


def _whitespace(text: str, rng: random.Random) -> str:
    words = text.split(" ")
    gaps = list(range(len(words) - 1))
    chosen = set(rng.sample(gaps, min(len(gaps), max(1, len(gaps) // 4)))) if gaps else set()
    out = words[0]
    for i, word in enumerate(words[1:]):
        out += (" " * rng.randint(2, 3) if i in chosen else " ") + word
    return " " * rng.randint(0, 2) + out + " " * rng.randint(1, 3)


def _punctuation(text: str, rng: random.Random) -> str:
    marks = [m.start() for m in _PUNCT.finditer(text)]
    if marks:
        keep = rng.random() < 0.3  # sometimes only some marks go; at least one always does
        dropped = set(rng.sample(marks, max(1, len(marks) // 2))) if keep else set(marks)
        return "".join(c for i, c in enumerate(text) if i not in dropped)
    return text.rstrip() + rng.choice(("!!", "?", "...", " !"))


def _reorder(text: str, rng: random.Random) -> str:
    sentences = _SENTENCE.split(text.strip())
    if len(sentences) >= 2:
        i, j = sorted(rng.sample(range(len(sentences)), 2))
        sentences[i], sentences[j] = sentences[j], sentences[i]
        return " ".join(sentences)
    parts = _CLAUSE.split(text)
    clauses = list(range(0, len(parts), 2))
    if len(clauses) >= 2:
        i, j = rng.sample(clauses, 2)
        parts[i], parts[j] = parts[j], parts[i]
        return "".join(parts)
    return text


def _distractor(text: str, rng: random.Random) -> str:
    separator = "\n" if "\n" in text else " "
    return text.rstrip() + separator + rng.choice(DISTRACTORS)


_FUNCTIONS: dict[str, Callable[[str, random.Random], str]] = {
    "typos": _typos,
    "casing": _casing,
    "whitespace": _whitespace,
    "punctuation": _punctuation,
    "reorder": _reorder,
    "distractor": _distractor,
}
#: The perturbations by name, in the order ``--with`` lists them.
PERTURBATIONS: tuple[str, ...] = tuple(_FUNCTIONS)


def parse_perturbations(spec: str) -> list[str]:
    """``"typos,casing"`` -> the names, checked (``ConfigError`` names the unknown ones and the known ones)."""
    names = [part.strip() for part in spec.split(",") if part.strip()]
    unknown = [name for name in names if name not in _FUNCTIONS]
    if unknown or not names:
        said = f"unknown perturbation(s) {', '.join(map(repr, unknown))}" if unknown else "no perturbation named"
        raise ConfigError(f"{said} (known: {', '.join(PERTURBATIONS)})")
    return list(dict.fromkeys(names))


def perturb_text(text: str, name: str, seed: int, key: str = "") -> str:
    """``text`` perturbed by ``name``, deterministic per (``key``, ``name``, ``seed``)."""
    if name not in _FUNCTIONS:
        raise ConfigError(f"unknown perturbation {name!r} (known: {', '.join(PERTURBATIONS)})")
    rng = random.Random(f"{key}\x00{name}\x00{seed}")
    return _FUNCTIONS[name](text, rng)


def perturb_case(case: Case, name: str, seed: int = 0, names: Iterable[str] | None = None) -> Case | None:
    """``case`` with its text vars (or only those in ``names``) perturbed by ``name``; None when no var changed
    (no text var, or one clause only for ``reorder``)."""
    wanted: Sequence[str] | None = list(names) if names is not None else None
    new_vars = dict(case.vars)
    changed = False
    for var, value in case.vars.items():
        if not isinstance(value, str) or (wanted is not None and var not in wanted):
            continue
        perturbed = perturb_text(value, name, seed, key=f"{case.id}\x00{var}")
        if perturbed != value:
            new_vars[var] = perturbed
            changed = True
    if not changed:
        return None
    tags = tuple(dict.fromkeys((*case.tags, "perturbed", name)))
    return case.model_copy(update={"id": f"{case.id}~{name}", "vars": new_vars, "tags": tags})
