"""Inspect AI's side of the latency benchmark: its ``openai`` provider against the fixed-latency server.

Run by Inspect's virtualenv: ``python latency_eval.py BASE_URL REQUESTS CONCURRENCY LOG_DIR``. Prints one
JSON line.
"""

from __future__ import annotations

import json
import os
import sys
import time
from datetime import datetime

from inspect_ai import Task, eval
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.scorer import includes
from inspect_ai.solver import generate


def main() -> None:
    base_url, requests, concurrency, log_dir = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    os.environ.setdefault("OPENAI_API_KEY", "benchmark-no-key")
    dataset = MemoryDataset([Sample(input=f"say w{i}", target=f"w{i}", id=f"c{i}") for i in range(requests)])
    task = Task(dataset=dataset, solver=generate(), scorer=includes())
    started = time.perf_counter()
    log = eval(
        task,
        model="openai/fake",
        model_base_url=base_url,
        model_args={"responses_api": False},
        max_connections=concurrency,
        max_retries=0,
        log_dir=log_dir,
        display="none",
    )[0]
    seconds = time.perf_counter() - started
    window = (
        datetime.fromisoformat(log.stats.completed_at) - datetime.fromisoformat(log.stats.started_at)
    ).total_seconds()
    metrics = log.results.scores[0].metrics if log.results else {}
    print(
        json.dumps(
            {
                "status": log.status,
                "samples": log.results.completed_samples if log.results else 0,
                "accuracy": metrics["accuracy"].value if "accuracy" in metrics else None,
                "eval_seconds": seconds,
                "run_seconds": window,
            }
        )
    )


if __name__ == "__main__":
    main()
