"""Reading a judge's answer, tolerantly: real judges wrap JSON in prose or code fences, answer ``Verdict: PASS``
on a line, or just ``PASS``. Each parser returns None when it cannot find one clear answer (the grader then
asks again, and in the end records an error: an unreadable answer never passes or fails silently).

What is understood, in order:

1. a JSON object anywhere in the text (``{"verdict": "PASS", "reason": "..."}``, ``{"score": 4}``, for all
   criteria at once ``{"polite": "PASS", "helpful": {"score": 4}}`` or ``{"criteria": [...]}``);
2. labelled lines (``Verdict: PASS``, ``score: 4/5``, ``polite: FAIL - rude``, ``Winner: A``);
3. a bare answer on the first or last line (``PASS``, ``4``, ``[[B]]``).

Two different answers found at the same step are ambiguous: None.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["Order", "Vote", "json_objects", "parse_preference", "parse_vote", "parse_votes"]

Order = Literal["first", "second", "tie"]
"""Which of two outputs a judge preferred, as they were shown to it."""

_PASS_WORDS = {"pass", "passed", "passes", "yes", "true", "good", "acceptable", "correct", "meets"}
_FAIL_WORDS = {"fail", "failed", "fails", "no", "false", "bad", "unacceptable", "incorrect"}
_LOOSE_WORDS = {"yes", "no", "good", "bad", "true", "false", "correct", "incorrect"}
_VERDICT_KEYS = ("verdict", "result", "decision", "answer", "pass", "passed", "grade", "label", "judgement", "judgment")
_SCORE_KEYS = ("score", "rating", "points", "value")
_REASON_KEYS = ("reason", "reasoning", "explanation", "rationale", "why", "justification", "comment", "comments")
_WINNER_KEYS = ("winner", "better", "preferred", "preference", "choice", "verdict", "answer", "best")
_LABELLED = re.compile(
    r"^[\s>*_#`-]*(verdict|answer|result|decision|grade|score|rating|judgement|judgment)\s*[*_]*\s*[:=]\s*(.+?)\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_WINNER_LINE = re.compile(
    r"^[\s>*_#`-]*(winner|better|preferred|preference|choice|verdict|answer|best)\s*[*_]*\s*[:=]\s*(.+?)\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_NUMBER = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:(?:/|out of|of)\s*(\d+))?")
_TOKEN = re.compile(r"[A-Za-z]+|\d+(?:\.\d+)?")


@dataclass(frozen=True, slots=True)
class Vote:
    """One judge answer on one criterion: a score in [0, 1] (pass 1, fail 0; a scale's ``(s-1)/(N-1)``),
    the answer as the judge gave it (``PASS``, ``4/5``) and its reason, if any."""

    score: float
    label: str
    reason: str = ""


def json_objects(text: str) -> list[dict[str, Any]]:
    """Every JSON object that can be read starting at a ``{`` in ``text`` (outermost first, in order)."""
    decoder = json.JSONDecoder()
    found: list[dict[str, Any]] = []
    position = text.find("{")
    while position != -1:
        try:
            value, end = decoder.raw_decode(text, position)
        except ValueError:
            position = text.find("{", position + 1)
            continue
        if isinstance(value, dict):
            found.append(value)
        position = text.find("{", end)
    return found


def _lower_keys(data: Mapping[str, Any]) -> dict[str, Any]:
    return {str(key).strip().lower(): value for key, value in data.items()}


def _reason(data: Mapping[str, Any]) -> str:
    lowered = _lower_keys(data)
    for key in _REASON_KEYS:
        if isinstance(lowered.get(key), str):
            return str(lowered[key]).strip()
    return ""


def _word_verdict(text: str) -> bool | None:
    """PASS/FAIL (and synonyms) as the first word of ``text``; None otherwise. A yes or no must stand alone
    (``No.``, ``yes, because...``): ``No idea`` is not a verdict."""
    match = _TOKEN.search(text)
    if match is None:
        return None
    word = match.group(0).lower()
    rest = text[match.end():]
    if word in _LOOSE_WORDS and rest[:1].isspace() and rest.strip()[:1].isalnum():
        return None
    if word in _PASS_WORDS:
        return True
    if word in _FAIL_WORDS:
        return False
    return None


def _scale_value(value: Any, scale: int) -> Vote | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number, denominator = float(value), None
    elif isinstance(value, str):
        match = _NUMBER.match(value)
        if match is None:
            return None
        number = float(match.group(1))
        denominator = int(match.group(2)) if match.group(2) else None
    else:
        return None
    if denominator is not None and denominator != scale:
        return None
    if not 1.0 <= number <= scale:
        return None
    label = f"{number:g}/{scale}"
    return Vote((number - 1.0) / (scale - 1.0), label)


def _binary_value(value: Any) -> Vote | None:
    if isinstance(value, bool):
        return Vote(1.0 if value else 0.0, "PASS" if value else "FAIL")
    if isinstance(value, int | float) and value in (0, 1):
        return Vote(float(value), "PASS" if value else "FAIL")
    if isinstance(value, str):
        verdict = _word_verdict(value)
        if verdict is not None:
            return Vote(1.0 if verdict else 0.0, "PASS" if verdict else "FAIL")
    return None


def _value_vote(value: Any, scale: int | None) -> Vote | None:
    """A scalar answer (``"PASS"``, ``True``, ``4``, ``"4/5"``) as a vote on a criterion."""
    return _scale_value(value, scale) if scale is not None else _binary_value(value)


def _dict_vote(data: Mapping[str, Any], scale: int | None) -> Vote | None:
    lowered = _lower_keys(data)
    keys = (_SCORE_KEYS + _VERDICT_KEYS) if scale is not None else (_VERDICT_KEYS + _SCORE_KEYS)
    for key in keys:
        if key in lowered:
            vote = _value_vote(lowered[key], scale)
            if vote is not None:
                return Vote(vote.score, vote.label, _reason(data))
    return None


def _unique(votes: Sequence[Vote]) -> Vote | None:
    """The one answer found (several that agree count as one); None when none or they differ."""
    if not votes:
        return None
    if any(vote.score != votes[0].score for vote in votes):
        return None
    return votes[0]


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def parse_vote(text: str, scale: int | None = None) -> Vote | None:
    """A judge's answer on one criterion: pass/fail, or a score on a 1..``scale`` scale (see the module)."""
    objects = json_objects(text)
    from_json = [vote for vote in (_dict_vote(data, scale) for data in objects) if vote is not None]
    if from_json:
        return _unique(from_json)
    labelled = [vote for vote in (_value_vote(m.group(2), scale) for m in _LABELLED.finditer(text)) if vote]
    if labelled:
        return _unique(labelled)
    lines = _lines(text)
    if not lines:
        return None
    bare = [vote for vote in (_value_vote(lines[0], scale), _value_vote(lines[-1], scale)) if vote is not None]
    vote = _unique(bare)
    if vote is None:
        return None
    reason = " ".join(lines[1:]) if len(lines) > 1 else ""
    return Vote(vote.score, vote.label, reason[:500])


def _key(name: str) -> str:
    return re.sub(r"[\s_\-]+", " ", name.strip().lower())


def _criteria_mapping(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """``{"criteria": {...}}`` or ``{"criteria": [{"name": ..., ...}]}`` as one mapping by name, else ``data``."""
    inner = _lower_keys(data).get("criteria")
    if isinstance(inner, Mapping):
        return inner
    if isinstance(inner, list):
        mapping: dict[str, Any] = {}
        for item in inner:
            if isinstance(item, Mapping):
                lowered = _lower_keys(item)
                name = lowered.get("name") or lowered.get("criterion") or lowered.get("id")
                if isinstance(name, str):
                    mapping[name] = item
        return mapping
    return data


def parse_votes(text: str, criteria: Sequence[tuple[str, int | None]]) -> dict[str, Vote] | None:
    """A judge's answers on several criteria at once, by criterion name (``(name, scale)`` pairs); None
    unless every criterion has exactly one clear answer."""
    wanted = {_key(name): (name, scale) for name, scale in criteria}
    found: dict[str, list[Vote]] = {name: [] for name, _ in criteria}
    for data in json_objects(text):
        for key, value in _criteria_mapping(data).items():
            target = wanted.get(_key(str(key)))
            if target is None:
                continue
            name, scale = target
            vote = _dict_vote(value, scale) if isinstance(value, Mapping) else _value_vote(value, scale)
            if vote is not None:
                found[name].append(vote)
    if not all(found.values()):
        for line in _lines(text):
            head, separator, rest = line.partition(":")
            target = wanted.get(_key(head.strip("*_#>`- ")))
            if not separator or target is None:
                continue
            name, scale = target
            vote = _value_vote(rest, scale)
            if vote is not None:
                reason = re.sub(r"^[^A-Za-z0-9]*\S+\s*[-:–—,.]*\s*", "", rest.strip(), count=1)
                found[name].append(Vote(vote.score, vote.label, reason))
    result: dict[str, Vote] = {}
    for name, votes in found.items():
        vote = _unique(votes)
        if vote is None:
            return None
        result[name] = vote
    return result


def _order_value(value: Any) -> Order | None:
    if not isinstance(value, str | int) or isinstance(value, bool):
        return None
    text = str(value).strip().strip("[]()*_`'\". ").lower()
    if text in ("a", "1", "first", "reply a", "output a", "response a", "assistant a"):
        return "first"
    if text in ("b", "2", "second", "reply b", "output b", "response b", "assistant b"):
        return "second"
    if text in ("tie", "both", "neither", "equal", "same", "c", "draw", "none"):
        return "tie"
    word = _TOKEN.search(text)
    if word is not None and word.group(0) in ("a", "b") and len(text) > 1 and not text[1].isalpha():
        return "first" if word.group(0) == "a" else "second"
    return None


def parse_preference(text: str) -> Order | None:
    """Which of two outputs a judge prefers, as shown to it: ``first`` (A), ``second`` (B) or ``tie``."""
    from_json = []
    for data in json_objects(text):
        lowered = _lower_keys(data)
        for key in _WINNER_KEYS:
            if key in lowered:
                order = _order_value(lowered[key])
                if order is not None:
                    from_json.append(order)
                    break
    if from_json:
        return from_json[0] if len(set(from_json)) == 1 else None
    labelled = [order for order in (_order_value(m.group(2)) for m in _WINNER_LINE.finditer(text)) if order]
    if labelled:
        return labelled[0] if len(set(labelled)) == 1 else None
    brackets = set(re.findall(r"\[\[\s*(A|B|C|tie)\s*\]\]", text, re.IGNORECASE))
    if brackets:
        orders = {_order_value(item) for item in brackets}
        return orders.pop() if len(orders) == 1 else None
    lines = _lines(text)
    if not lines:
        return None
    candidates = {order for order in (_order_value(lines[0]), _order_value(lines[-1])) if order is not None}
    return candidates.pop() if len(candidates) == 1 else None
