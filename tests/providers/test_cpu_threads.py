"""How many threads the embedded model decodes with (providers/cpu_threads.py)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from mendoza.providers import cpu_threads
from mendoza.providers.cpu_threads import CpuWatch, available_cpus, choose_threads


def test_a_core_counts_as_taken_from_half_busy_on_and_one_thread_is_always_left() -> None:
    assert choose_threads(2, 0.0) == 2
    assert choose_threads(2, 0.3) == 2  # background noise leaves both cores
    assert choose_threads(2, 0.6) == 1  # a neighbour half busy: llama.cpp's threads would wait on it
    assert choose_threads(2, 1.0) == 1
    assert choose_threads(2, 7.5) == 1  # never none
    assert choose_threads(16, 3.4) == 13
    assert choose_threads(4, -0.2) == 4
    assert choose_threads(4, None) == 4  # unknown (no /proc): all of them
    assert choose_threads(1, 0.0) == 1


def _write_stat(folder: Path, cpu0: list[int], cpu1: list[int], own: tuple[int, int]) -> None:
    (folder / "stat").write_text(
        "cpu  0 0 0 0 0 0 0 0 0 0\n"
        f"cpu0 {' '.join(map(str, cpu0))}\ncpu1 {' '.join(map(str, cpu1))}\nintr 1 2 3\n"
    )
    fields = ["S"] + ["0"] * 10 + [str(own[0]), str(own[1])] + ["0"] * 5
    (folder / "self_stat").write_text("42 (python (test)) " + " ".join(fields) + "\n")


def test_the_watch_counts_what_others_kept_busy_less_this_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(cpu_threads, "_STAT", tmp_path / "stat")
    monkeypatch.setattr(cpu_threads, "_SELF_STAT", tmp_path / "self_stat")
    monkeypatch.setattr("os.sched_getaffinity", lambda pid: {0, 1}, raising=False)
    # columns: user nice system idle iowait irq softirq steal
    _write_stat(tmp_path, [100, 0, 0, 100, 0, 0, 0, 0], [100, 0, 0, 100, 0, 0, 0, 0], own=(50, 10))
    watch = CpuWatch()
    # 100 ticks per CPU pass; the CPUs were busy 150 of the 200 ticks (20 of them stolen by the hypervisor),
    # 60 of which this process used: others kept 0.9 of a core busy.
    _write_stat(tmp_path, [160, 0, 10, 130, 0, 0, 0, 0], [160, 0, 0, 120, 0, 0, 0, 20], own=(100, 20))
    assert watch.busy_elsewhere() == pytest.approx(0.9)
    assert choose_threads(2, 0.9) == 1
    _write_stat(tmp_path, [165, 0, 10, 225, 0, 0, 0, 0], [160, 0, 0, 220, 0, 0, 0, 20], own=(100, 20))
    assert watch.busy_elsewhere() == pytest.approx(0.05)  # since the last look: quiet again


def test_a_busy_neighbour_shows(tmp_path: Path) -> None:
    if not Path("/proc/stat").exists():
        pytest.skip("needs Linux's /proc")
    watch = CpuWatch()
    spin = "import time\nend = time.time() + 3\nwhile time.time() < end: pass"
    neighbour = subprocess.Popen([sys.executable, "-c", spin])
    try:
        time.sleep(0.2)
        busy = watch.settle(0.6)
    finally:
        neighbour.kill()
        neighbour.wait()
    assert busy is not None and busy >= 0.5
    assert choose_threads(available_cpus(), busy) <= max(1, available_cpus() - 1)
