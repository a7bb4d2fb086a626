"""Batched decoding of the embedded model: tokens/s with 1, 2, 4, 8 and 16 sequences in flight against
single-sequence decoding through llama-cpp-python's high-level API (what the ``local`` provider did before),
tokens/s beside a busy neighbour process, and the example suite (``make demo``) end to end, batched
against one slot, all measured side by side in one run.

Every side uses the same thread count, chosen once at the start from what the machine leaves free
(``providers.cpu_threads``), except the neighbour rows, which compare the provider's own choice with
llama-cpp-python's default of every core. Rounds alternate the order of the sides; each figure is the total
over the rounds and each ratio the median of the rounds' paired ratios, so a burst of other work on the
shared machine spoils one pair, not the figure. Prompts differ from round to round (no side reuses what an
earlier round left in its cache).
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import yaml

from benchmarks.common import REPO, Settings, mendoza_command, rate, run_timed
from benchmarks.local_model import _PROMPTS
from benchmarks.table import Row
from mendoza.core import ModelRequest, Variant

__all__ = ["run"]

NAME = "local batched"
BATCH_SIZES = (1, 2, 4, 8, 16)


def run(settings: Settings) -> list[Row]:
    """Tokens/s by batch size, beside a busy neighbour, and the demo end to end (see the module)."""
    if not settings.local_model:
        return [Row(NAME, "tokens/s by batch size", "skipped (--no-local-model)")]
    try:
        from llama_cpp import Llama

        from mendoza.providers.cpu_threads import CpuWatch, available_cpus, choose_threads
        from mendoza.providers.local import resolve_model_path

        path = resolve_model_path("gemma-3-270m")
    except Exception as exc:  # the extra is optional: say so in the table rather than fail the command
        return [Row(NAME, "tokens/s by batch size", f"skipped: {exc}")]
    threads = choose_threads(available_cpus(), CpuWatch().settle(0.5))
    rows = _throughput(settings, path, threads, Llama)
    rows += _neighbour(settings, path, Llama)
    rows += _demo(settings, threads)
    return rows


# tokens/s by batch size -----------------------------------------------------------------------------------


def _provider(slots: int, threads: int | None, max_tokens: int) -> Any:
    from mendoza.providers.local import LocalProvider

    params: dict[str, Any] = {"api": "completion", "slots": slots, "max_tokens": max_tokens, "temperature": 0.8}
    if threads is not None:
        params["n_threads"] = threads
    return LocalProvider(Variant(id=f"slots-{slots}", model="local/gemma-3-270m", prompt="{{ p }}", params=params))


def _prompts(round_index: int, count: int) -> list[str]:
    """Prompts no earlier round used: a cache keeps nothing useful from one round to the next."""
    return [f"Round {round_index}, item {i}. {_PROMPTS[i % len(_PROMPTS)]}" for i in range(count)]


def _batched(provider: Any, prompts: list[str]) -> tuple[float, int]:
    """Seconds and tokens for ``prompts`` all sent at once (the engine's slots bound what is in flight)."""

    async def main() -> int:
        requests = [ModelRequest(text, {}, provider.variant.params, 1000 + i) for i, text in enumerate(prompts)]
        responses = await asyncio.gather(*(provider.complete(request) for request in requests))
        return sum(response.tokens_out or 0 for response in responses)

    started = time.perf_counter()
    tokens = asyncio.run(main())
    return time.perf_counter() - started, tokens


def _cpu(measure: Callable[[], tuple[float, int]]) -> tuple[float, int, float]:
    """``measure()``'s seconds and tokens, and the CPU seconds this process spent meanwhile (every thread):
    the work itself, which other processes on the machine do not inflate as they do the wall time."""
    started = time.process_time()
    seconds, tokens = measure()
    return seconds, tokens, time.process_time() - started


def _single(raw: Any, worker: ThreadPoolExecutor, prompts: list[str], max_tokens: int) -> tuple[float, int]:
    """Seconds and tokens for ``prompts`` one after the other through the high-level API, from one thread."""

    def generate() -> int:
        tokens = 0
        for i, text in enumerate(prompts):
            result = raw.create_completion(text, max_tokens=max_tokens, temperature=0.8, seed=1000 + i)
            tokens += result["usage"]["completion_tokens"]
        return tokens

    started = time.perf_counter()
    tokens = worker.submit(generate).result()
    return time.perf_counter() - started, tokens


def _throughput(settings: Settings, path: Path, threads: int, llama: Callable[..., Any]) -> list[Row]:
    max_tokens = settings.size(48, 16)
    count = settings.size(16, 8)
    rounds = settings.size(3, 1)
    sizes = BATCH_SIZES if not settings.quick else (1, 8)
    raw = llama(model_path=str(path), n_ctx=2048, n_threads=threads, n_threads_batch=threads, verbose=False)
    worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="raw-llama")
    providers = {size: _provider(size, threads, max_tokens) for size in sizes}
    _batched(providers[sizes[-1]], ["Warm up."])  # load the model once (as a run would)
    _single(raw, worker, ["Warm up."], 4)
    totals: dict[Any, list[float]] = {side: [0.0, 0, 0.0] for side in ("single", *sizes)}
    ratios: dict[int, list[float]] = {size: [] for size in sizes}
    for index in range(rounds):
        prompts = _prompts(index, count)
        order: list[Any] = ["single", *sizes]
        if index % 2:
            order.reverse()
        found: dict[Any, float] = {}
        for side in order:
            def measure(side: Any = side, prompts: list[str] = prompts) -> tuple[float, int]:
                if side == "single":
                    return _single(raw, worker, prompts, max_tokens)
                return _batched(providers[side], prompts)

            seconds, tokens, cpu = _cpu(measure)
            totals[side][0] += seconds
            totals[side][1] += tokens
            totals[side][2] += cpu
            found[side] = rate(tokens, seconds)
        for size in sizes:
            ratios[size].append(found[size] / found["single"] if found["single"] else 0.0)
    worker.shutdown()
    raw.close()
    single = rate(totals["single"][1], totals["single"][0])
    rows = []
    for size in sizes:
        ratio = statistics.median(ratios[size])
        target, ok = (">= 2x", ratio >= 2.0) if size >= 8 else ((">= 95%", ratio >= 0.95) if size == 1 else ("", None))
        rows.append(
            Row(
                NAME,
                f"tokens/s, {size} in flight ({count} x {max_tokens} tokens, {threads} thread{'s' * (threads > 1)})",
                f"{rate(totals[size][1], totals[size][0]):.1f}",
                f"{single:.1f} (high-level API, one at a time)",
                f"{ratio:.2f}x (median of {rounds})",
                target,
                ok,
            )
        )
    largest = sizes[-1]

    def per_token(side: Any) -> float:
        return 1000 * totals[side][2] / totals[side][1] if totals[side][1] else 0.0

    rows.append(
        Row(
            NAME,
            f"CPU ms per generated token, {largest} in flight (this process, every thread)",
            f"{per_token(largest):.1f}",
            f"{per_token('single'):.1f} (high-level API, one at a time)",
            f"{per_token('single') / per_token(largest):.2f}x less" if per_token(largest) else "",
        )
    )
    return rows


# beside a busy neighbour ------------------------------------------------------------------------------------

_SPIN = "import time\nend = time.time() + {seconds}\nwhile time.time() < end:\n    pass\n"


def _neighbour(settings: Settings, path: Path, llama: Callable[..., Any]) -> list[Row]:
    """One process spinning on one core; the provider choosing its threads, against llama-cpp-python's
    default of every core (for prompts, ``n_threads_batch``) and the old provider's ``os.cpu_count()``."""
    import os

    from mendoza.providers.local import engine_for

    max_tokens = settings.size(32, 12)
    count = settings.size(8, 4)
    neighbour = subprocess.Popen([sys.executable, "-c", _SPIN.format(seconds=600)])
    try:
        time.sleep(1.0)
        cores = os.cpu_count() or 1
        raw = llama(model_path=str(path), n_ctx=2048, n_threads=cores, n_threads_batch=cores, verbose=False)
        worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="raw-llama")
        single_seconds, single_tokens = _single(raw, worker, _prompts(90, count), max_tokens)
        worker.shutdown()
        raw.close()
        provider = _provider(8, None, max_tokens)
        seconds, tokens = _batched(provider, _prompts(91, count))
        chosen = engine_for(path, 2048, 8, None).threads  # made by the calls above: no load here
    finally:
        neighbour.kill()
        neighbour.wait()
    mine, theirs = rate(tokens, seconds), rate(single_tokens, single_seconds)
    return [
        Row(
            NAME,
            f"tokens/s beside a process busy on one core (8 in flight, {chosen} thread{'s' * (chosen > 1)} chosen)",
            f"{mine:.1f}",
            f"{theirs:.1f} (high-level API, {cores} threads)",
            f"{mine / theirs:.1f}x" if theirs else "",
            "no collapse",
            chosen < cores or cores == 1,
        )
    ]


# the demo end to end ------------------------------------------------------------------------------------


def _demo_suite(folder: Path, settings: Settings, params: dict[str, Any]) -> Path:
    """The example suite (``make demo``) with ``params`` added to each variant (``--quick``: 8 tickets x 2)."""
    source = REPO / "examples" / "support_tickets"
    folder.mkdir(parents=True, exist_ok=True)
    document = yaml.safe_load((source / "suite.yaml").read_text(encoding="utf-8"))
    tickets = (source / "tickets.jsonl").read_text(encoding="utf-8").splitlines()
    if settings.quick:
        tickets, document["repeats"] = tickets[:8], 2
    (folder / "tickets.jsonl").write_text("\n".join(tickets) + "\n", encoding="utf-8")
    (folder / "prompts").mkdir(exist_ok=True)
    for prompt in (source / "prompts").iterdir():
        (folder / "prompts" / prompt.name).write_text(prompt.read_text(encoding="utf-8"), encoding="utf-8")
    for variant in document["variants"]:
        variant["params"] = {**variant.get("params", {}), **params}
    path = folder / "suite.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def _passed(db: Path) -> dict[str, tuple[int, int]]:
    """Per variant: samples passed and samples, of the one run in ``db``."""
    from mendoza.store import Store

    counts: dict[str, list[int]] = {}
    with Store(db) as store:
        (run,) = store.runs.latest(1)
        for sample in store.samples.iterate(run.id):
            entry = counts.setdefault(sample.variant_id, [0, 0])
            entry[0] += bool(sample.passed)
            entry[1] += 1
    return {variant: (passed, total) for variant, (passed, total) in counts.items()}


def _demo(settings: Settings, threads: int) -> list[Row]:
    rounds = settings.size(2, 1)
    folder = settings.workdir / "local-batched-demo"
    suites = {
        "batched": _demo_suite(folder / "batched", settings, {"n_threads": threads}),
        "single": _demo_suite(folder / "single", settings, {"n_threads": threads, "slots": 1}),
    }
    seconds: dict[str, list[float]] = {side: [] for side in suites}
    cpu: dict[str, list[float]] = {side: [] for side in suites}
    passed: dict[str, dict[str, tuple[int, int]]] = {}
    for index in range(rounds):
        order = ["batched", "single"] if index % 2 == 0 else ["single", "batched"]
        for side in order:
            db = suites[side].parent / f"run-{index}.db"
            db.unlink(missing_ok=True)
            # exit 0 or 1 (a gate), never a crash; -q keeps the report off the output
            timed = run_timed(mendoza_command("run", str(suites[side]), "--db", str(db), "--no-cache", "-q"))
            if timed.returncode not in (0, 1):
                timed.check(f"mendoza run ({side})")
            seconds[side].append(timed.seconds)
            cpu[side].append(timed.cpu_seconds)
            passed[side] = _passed(db)
    ratios = [single / batched for batched, single in zip(seconds["batched"], seconds["single"], strict=True)]
    ratio = statistics.median(ratios)
    samples = sum(total for _, total in passed["batched"].values())

    def rates(side: str) -> str:
        return ", ".join(f"{variant} {p}/{n}" for variant, (p, n) in sorted(passed[side].items()))

    return [
        Row(
            NAME,
            f"`make demo` end to end ({samples} samples, process with start-up, {threads} thread{'s' * (threads > 1)})",
            f"{statistics.median(seconds['batched']):.1f} s",
            f"{statistics.median(seconds['single']):.1f} s (one slot)",
            f"{ratio:.2f}x faster (median of {rounds})",
            ">= 2x",
            ratio >= 2.0,
        ),
        Row(
            NAME,
            "`make demo`: CPU seconds of the process (the work, whatever else runs)",
            f"{statistics.median(cpu['batched']):.1f} s",
            f"{statistics.median(cpu['single']):.1f} s (one slot)",
            f"{statistics.median(cpu['single']) / statistics.median(cpu['batched']):.2f}x less",
        ),
        Row(NAME, "demo samples passed, batched vs one slot (same seeds)", rates("batched"), rates("single")),
    ]
