"""Small grader functions that the python grader's tests name as ``tests.graders.helpers:fn``."""

from __future__ import annotations

import asyncio
from typing import Any

from mendoza.core import Case
from mendoza.graders.base import Verdict

#: Appended to by test files imported through a path target, to count how often they are imported.
IMPORTS: list[str] = []

NOT_CALLABLE = 42


def says_yes(output: str, case: Case) -> bool:
    return "yes" in output.lower()


def score_from_output(output: str, case: Case) -> float:
    return float(output)


def score_as_int(output: str, case: Case) -> int:
    return 1


def pair(output: str, case: Case) -> tuple[bool, str]:
    return output == case.expected, f"compared with {case.expected!r}"


def as_dict(output: str, case: Case) -> dict[str, Any]:
    return {"passed": output.startswith("ok"), "score": 0.25, "explanation": "from a dict"}


def dict_score_only(output: str, case: Case) -> dict[str, Any]:
    return {"score": 0.8}


def dict_unknown_key(output: str, case: Case) -> dict[str, Any]:
    return {"pass": True, "reason": "promptfoo style"}


def verdict(output: str, case: Case) -> Verdict:
    return Verdict(False, 0.1, "a verdict")


def returns_none(output: str, case: Case) -> None:
    return None


def returns_text(output: str, case: Case) -> str:
    return "looks good"


def score_too_big(output: str, case: Case) -> float:
    return 1.5


def long_tuple(output: str, case: Case) -> tuple[bool, str, int]:
    return True, "x", 3


def raises(output: str, case: Case) -> bool:
    raise ValueError("no good")


def one_argument(output: str) -> bool:
    return True


def uses_case_vars(output: str, case: Case) -> bool:
    return bool(case.vars["name"] in output)


async def async_score(output: str, case: Case) -> float:
    await asyncio.sleep(0)
    return 0.3


async def async_pair(output: str, case: Case) -> tuple[bool, str]:
    await asyncio.sleep(0)
    return True, "async and happy"


async def async_raises(output: str, case: Case) -> bool:
    await asyncio.sleep(0)
    raise RuntimeError("async trouble")


class Checks:
    @staticmethod
    def nested(output: str, case: Case) -> bool:
        return True
