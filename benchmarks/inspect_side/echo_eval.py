"""Inspect AI's side of the harness benchmark: an instant echo model, a substring scorer, logged to disk.

Run by Inspect's virtualenv: ``python echo_eval.py CASES REPEATS LOG_DIR``. Prints one JSON line.
Inspect's ``mockllm`` counts tokens with a tokenizer it downloads, so an instant ``ModelAPI`` of our own
stands in for it: it answers with the prompt, like mendoza's ``echo`` provider.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import datetime
from typing import Any

from inspect_ai import Task, eval
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import GenerateConfig, ModelAPI, ModelOutput, ModelUsage, modelapi
from inspect_ai.scorer import includes
from inspect_ai.solver import generate


@modelapi(name="instant")
class InstantEcho(ModelAPI):
    """Answers every request at once with its last message (tokens counted in words)."""

    def __init__(
        self,
        model_name: str,
        base_url: str | None = None,
        api_key: str | None = None,
        config: GenerateConfig = GenerateConfig(),  # noqa: B008 (Inspect's own signature)
        **model_args: Any,
    ) -> None:
        super().__init__(model_name, base_url, api_key, [], config)

    async def generate(self, input: Any, tools: Any, tool_choice: Any, config: GenerateConfig) -> ModelOutput:
        text = input[-1].text
        output = ModelOutput.from_content(model=self.model_name, content=text)
        words = len(text.split())
        output.usage = ModelUsage(input_tokens=words, output_tokens=words, total_tokens=2 * words)
        return output


def main() -> None:
    cases, repeats, log_dir = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    dataset = MemoryDataset([Sample(input=f"say w{i}", target=f"w{i}", id=f"c{i}") for i in range(cases)])
    task = Task(dataset=dataset, solver=generate(), scorer=includes(), epochs=repeats)
    started = time.perf_counter()
    log = eval(task, model="instant/echo", log_dir=log_dir, display="none", max_connections=100)[0]
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
