"""Apps and graders for the Ray executor's tests, imported by path on the Ray workers (``python:FILE:func``).

Each tells on where it ran (its process id) so the tests can see which worker drew or graded a sample; the
ones that coordinate across processes do it through files named in the case's vars.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from pathlib import Path
from typing import Any


def burn(vars: dict[str, Any]) -> dict[str, Any]:
    """A CPU-bound app: busy for ``vars['ms']`` milliseconds of wall time (default 20), in pure Python."""
    deadline = time.perf_counter() + float(vars.get("ms", 20)) / 1000.0
    spins = 0
    while time.perf_counter() < deadline:
        spins += 1
    return {"output": f"say {vars['word']}", "pid": os.getpid()}


def dies_once(vars: dict[str, Any]) -> dict[str, Any]:
    """Kills its own worker process the first time any sample reaches it (the marker file says it did)."""
    marker = Path(vars["marker"])
    try:
        marker.touch(exist_ok=False)
    except FileExistsError:
        return burn(vars)
    time.sleep(0.05)  # the other samples in flight on this worker die with it too
    os._exit(1)


def poison(vars: dict[str, Any]) -> dict[str, Any]:
    """Kills its worker every time for the case with ``poison`` set; an ordinary app for the others."""
    if vars.get("poison"):
        with Path(vars["deaths"]).open("a") as log:
            log.write(f"{os.getpid()}\n")
        os._exit(1)
    return burn(vars)


def counted(vars: dict[str, Any]) -> dict[str, Any]:
    """Records how many samples are in flight at once, across every process, in ``vars['counter']`` (a JSON
    file under an exclusive lock): ``now`` and the ``peak``."""
    counter = Path(vars["counter"])

    def change(step: int) -> None:
        with counter.open("a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            handle.seek(0)
            text = handle.read()
            state = json.loads(text) if text else {"now": 0, "peak": 0, "pids": []}
            state["now"] += step
            state["peak"] = max(state["peak"], state["now"])
            state["pids"] = sorted({*state["pids"], os.getpid()})
            handle.seek(0)
            handle.truncate()
            handle.write(json.dumps(state))

    change(+1)
    try:
        time.sleep(float(vars.get("ms", 60)) / 1000.0)
    finally:
        change(-1)
    return {"output": f"say {vars['word']}", "pid": os.getpid()}


def grade_where(output: str, case: Any) -> dict[str, Any]:
    """A grader that passes and says which process graded."""
    return {"passed": True, "explanation": f"graded in {os.getpid()}"}
