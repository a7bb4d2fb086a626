"""Drop drafts that repeat a suite's cases or each other: exact duplicates (the same normalised text) and near
duplicates (MinHash over word shingles, datasketch's ``MinHash`` and ``MinHashLSH``).

A case's text is its vars' values (by name), then its expected answer, each a string or compact JSON;
normalised by NFKC, case folding, punctuation dropped and whitespace collapsed. LSH finds candidates; a
candidate is a near duplicate when the Jaccard similarity of the two shingle sets, computed exactly, is at
least the threshold (so the reported figure is the real one, not the sketch's estimate). Existing cases come
first, then the drafts in order: the first of a group is kept, the later ones are dropped with the reason.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from datasketch import MinHash, MinHashLSH  # type: ignore[import-untyped]

from mendoza.core import Case
from mendoza.errors import ConfigError

__all__ = [
    "DEFAULT_SHINGLE", "DEFAULT_THRESHOLD", "DedupeResult", "Dropped", "case_text", "dedupe", "normalise", "shingles",
]

DEFAULT_THRESHOLD = 0.8
#: Words per shingle. Two, not the usual three or more: cases are short, and with three-word shingles one
#: changed word in a twenty-word ticket already brings the Jaccard similarity down to about 0.7.
DEFAULT_SHINGLE = 2
NUM_PERM = 128
#: How far below the threshold LSH looks for candidates.
LSH_MARGIN = 0.2

_PUNCTUATION = re.compile(r"[^\w\s]+")


@dataclass(frozen=True, slots=True)
class Dropped:
    """A draft left out: its id, its position among the drafts, and why."""

    draft_id: str
    index: int
    duplicate_of: str  # "case X" (the suite's) or "draft Y"
    kind: str  # "exact" or "near"
    jaccard: float

    @property
    def reason(self) -> str:
        if self.kind == "exact":
            return f"duplicate of {self.duplicate_of} (exact)"
        return f"near duplicate of {self.duplicate_of} (Jaccard ~{self.jaccard:.2f})"

    def to_dict(self) -> dict[str, Any]:
        return {"draft": self.draft_id, "index": self.index, "duplicate_of": self.duplicate_of,
                "kind": self.kind, "jaccard": round(self.jaccard, 4), "reason": self.reason}


@dataclass
class DedupeResult:
    kept: list[dict[str, Any]]
    dropped: list[Dropped]


def normalise(text: str) -> str:
    folded = unicodedata.normalize("NFKC", text).casefold()
    return " ".join(_PUNCTUATION.sub(" ", folded).split())


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True, ensure_ascii=False)


def case_text(case: Mapping[str, Any]) -> str:
    """The normalised text of a case given as a mapping (``vars``, ``expected``, ``messages``)."""
    parts = [_as_text(value) for _, value in sorted((case.get("vars") or {}).items())]
    for message in case.get("messages") or ():
        parts.append(_as_text(message.get("content") if isinstance(message, Mapping) else message))
    if case.get("expected") is not None:
        parts.append(_as_text(case["expected"]))
    return normalise(" ".join(parts))


def shingles(text: str, size: int = DEFAULT_SHINGLE) -> set[str]:
    words = text.split()
    if len(words) <= size:
        return {" ".join(words)}
    return {" ".join(words[start : start + size]) for start in range(len(words) - size + 1)}


def _minhash(items: set[str]) -> Any:
    sketch = MinHash(num_perm=NUM_PERM, seed=1)
    for item in sorted(items):
        sketch.update(item.encode("utf-8"))
    return sketch


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def dedupe(
    existing: Iterable[Case],
    drafts: Iterable[Mapping[str, Any]],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    shingle_size: int = DEFAULT_SHINGLE,
) -> DedupeResult:
    """Keep the drafts (``{"case": {...}, ...}`` mappings, as in a drafts file) that are neither exact nor near
    duplicates of an existing case or of an earlier kept draft."""
    if not 0.0 < threshold <= 1.0:
        raise ConfigError(f"--threshold must be in (0, 1], not {threshold}")
    # LSH finds candidates below the threshold too (a pair just above it would be missed about half the time);
    # the exact Jaccard similarity then decides.
    lsh = MinHashLSH(threshold=max(0.1, threshold - LSH_MARGIN), num_perm=NUM_PERM)
    exact: dict[str, str] = {}
    sets: dict[str, set[str]] = {}

    def remember(key: str, text: str, items: set[str]) -> None:
        exact.setdefault(text, key)
        if key not in sets:
            sets[key] = items
            lsh.insert(key, _minhash(items))

    for existing_case in existing:
        text = case_text(existing_case.model_dump())
        remember(f"case {existing_case.id}", text, shingles(text, shingle_size))
    kept: list[dict[str, Any]] = []
    dropped: list[Dropped] = []
    for index, draft in enumerate(drafts):
        case = draft.get("case")
        if not isinstance(case, Mapping):
            raise ConfigError(f"draft {index + 1} has no 'case' object")
        draft_id = str(case.get("id", index + 1))
        text = case_text(case)
        if text in exact:
            dropped.append(Dropped(draft_id, index, exact[text], "exact", 1.0))
            continue
        items = shingles(text, shingle_size)
        scored = [(_jaccard(items, sets[key]), key) for key in lsh.query(_minhash(items))]
        best = max(scored, default=None, key=lambda pair: (pair[0], pair[1]))
        if best is not None and best[0] >= threshold:
            dropped.append(Dropped(draft_id, index, best[1], "near", best[0]))
            continue
        remember(f"draft {draft_id}#{index}" if f"draft {draft_id}" in sets else f"draft {draft_id}", text, items)
        kept.append(dict(draft))
    return DedupeResult(kept, dropped)
