"""The latency limit: how close each harness gets to C/L requests per second against a slow server.

A fixed-latency OpenAI-compatible server (``benchmarks/latency_server.py``) runs in its own process on
127.0.0.1 with L = 100 ms. At concurrency C = 50 no client can do better than C/L = 500 requests/s; a
harness that spends CPU per request falls short of it. mendoza goes through its real ``openai`` provider
(a ``model: openai/fake`` variant with ``base_url`` and ``concurrency: 50``, ``mendoza run`` in a child
process); Inspect AI through its ``openai`` provider with ``max_connections=50``, in the same server.

The server's own CPU time per request is read from ``/proc`` during the run, to show that it could serve
far more than the load it is given (so the figures measure the clients, not the server).
"""

from __future__ import annotations

from benchmarks.common import Settings, mendoza_command, rate, run_seconds, run_timed, write_echo_suite
from benchmarks.inspect_env import INSPECT_VERSION, run_inspect_script
from benchmarks.latency_server import process_cpu_seconds, serve_in_process
from benchmarks.table import Row
from mendoza.store import Store

__all__ = ["run"]

NAME = "latency limit"
LATENCY = 0.1
CONCURRENCY = 50
LIMIT = CONCURRENCY / LATENCY
#: The share of the limit to reach (issue 17: 95%, up from 90%).
TARGET = 0.95


def run(settings: Settings) -> list[Row]:
    """mendoza (and Inspect AI) against the same server; rows with both efficiencies."""
    requests = settings.size(5_000, 500)
    folder = settings.workdir / "latency"
    db = folder / "mendoza.db"
    with serve_in_process(LATENCY) as (url, server_pid):
        suite = write_echo_suite(
            folder, requests, 1, model="openai/fake", base_url=url, concurrency=CONCURRENCY
        )
        cpu_before = process_cpu_seconds(server_pid)
        process = run_timed(
            mendoza_command("run", str(suite), "--db", str(db), "--no-cache", "-q"), cwd=folder
        )
        server_cpu = process_cpu_seconds(server_pid) - cpu_before
        process.check("mendoza run")
        with Store(db, readonly=True) as store:
            finished = store.runs.get("latest")
            counts = store.samples.variant_counts(finished.id)
        if finished.done_samples != requests or sum(c.passed for c in counts) != requests:
            raise RuntimeError(f"mendoza stored {finished.done_samples}/{requests} samples, or some failed")
        mendoza_rate = rate(requests, run_seconds(finished))
        mendoza_end_to_end = rate(requests, process.seconds)
        inspect_rate = None
        if settings.inspect:
            inspect_folder = folder / "inspect"
            inspect_folder.mkdir(exist_ok=True)
            result = run_inspect_script(
                "latency_eval.py",
                url,
                str(requests),
                str(CONCURRENCY),
                str(inspect_folder / "logs"),
                cwd=inspect_folder,
            )
            report = result.last_json()
            if report["samples"] != requests or report["accuracy"] != 1.0:
                raise RuntimeError(f"Inspect AI did not finish its requests: {report}")
            inspect_rate = rate(requests, report["eval_seconds"])

    efficiency = mendoza_rate / LIMIT
    measure = f"requests/s, L = {LATENCY * 1000:.0f} ms, C = {CONCURRENCY} ({requests:,} requests)"
    target = f">= {TARGET:.0%} of {LIMIT:.0f}/s"
    per_request_us = server_cpu / requests * 1e6
    capacity = 1e6 / per_request_us if per_request_us else float("inf")
    server_row = Row(
        NAME,
        "server: CPU per request -> capacity",
        f"{per_request_us:.0f} us -> ~{capacity:,.0f}/s",
        target=f">= 10x the limit ({10 * LIMIT:,.0f}/s)",
        ok=capacity >= 10 * LIMIT,
    )
    if inspect_rate is None:
        return [
            Row(NAME, measure, f"{mendoza_rate:.0f} ({efficiency:.1%})", target=target, ok=efficiency >= TARGET),
            Row(NAME, "requests/s end to end (process, with start-up)", f"{mendoza_end_to_end:.0f}"),
            server_row,
        ]
    return [
        Row(
            NAME,
            measure,
            f"{mendoza_rate:.0f} ({efficiency:.1%})",
            f"{inspect_rate:.0f} ({inspect_rate / LIMIT:.0%}, Inspect {INSPECT_VERSION})",
            f"{mendoza_rate / inspect_rate:.1f}x",
            target,
            efficiency >= TARGET,
        ),
        Row(NAME, "requests/s end to end (process, with start-up)", f"{mendoza_end_to_end:.0f}"),
        server_row,
    ]
