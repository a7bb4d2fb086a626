"""How many threads the embedded model should decode with: the cores this process may run on, less those
other processes keep busy.

llama.cpp's threads wait for one another at every step of a decode, so one thread that loses its core to a
busy neighbour stalls them all. Measured on 2 cores with another process busy on one of them,
single-sequence decoding fell from 65 tokens/s with 2 threads to 1.7 (with 1 thread: to 36). So a core
counts as taken when other processes keep it at least half busy, and the engine looks again every few
seconds (``CpuWatch``), so a neighbour that starts or stops during a run moves the count.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

__all__ = ["CpuWatch", "available_cpus", "choose_threads"]


def available_cpus() -> int:
    """The CPUs this process may run on (its affinity), else the machine's count."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return os.cpu_count() or 1


def choose_threads(available: int, busy_elsewhere: float | None) -> int:
    """Threads for ``available`` CPUs when other processes keep ``busy_elsewhere`` of them busy (in cores;
    None: unknown, use them all): a core is taken from half busy on, and at least one thread is left."""
    if busy_elsewhere is None:
        return max(1, available)
    taken = math.floor(max(0.0, busy_elsewhere) + 0.5)
    return max(1, min(available, available - taken))


_STAT = Path("/proc/stat")
_SELF_STAT = Path("/proc/self/stat")
#: /proc/stat's busy columns: user, nice, system, irq, softirq, steal (time the hypervisor gave away counts
#: as taken too).
_BUSY_COLUMNS = (0, 1, 2, 5, 6, 7)


def _cpu_times(cpus: set[int]) -> tuple[float, float, int] | None:
    """(busy ticks, all ticks) summed over ``cpus``, and how many of them /proc/stat lists; None off Linux."""
    try:
        lines = _STAT.read_text().splitlines()
    except OSError:
        return None
    busy = total = 0.0
    seen = 0
    for line in lines:
        if not line.startswith("cpu") or line.startswith("cpu "):
            continue
        name, *fields = line.split()
        if int(name[3:]) not in cpus:
            continue
        values = [float(value) for value in fields[:8]]
        busy += sum(values[i] for i in _BUSY_COLUMNS if i < len(values))
        total += sum(values)
        seen += 1
    return (busy, total, seen) if seen else None


def _own_ticks() -> float | None:
    """This process's CPU time (user + system, every thread) in clock ticks."""
    try:
        # The command name (field 2) may hold spaces: split after its closing parenthesis.
        fields = _SELF_STAT.read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return float(fields[11]) + float(fields[12])  # utime, stime (fields 14 and 15 of the line)


class CpuWatch:
    """How many of this process's CPUs other processes kept busy since the last look (Linux's /proc; None
    elsewhere or before a first interval has passed)."""

    def __init__(self) -> None:
        self._cpus = set(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else set()
        self._last = self._sample()

    def _sample(self) -> tuple[float, float, int, float, float] | None:
        times, own = _cpu_times(self._cpus), _own_ticks()
        if times is None or own is None:
            return None
        return (*times, own, time.monotonic())

    def busy_elsewhere(self) -> float | None:
        """Cores kept busy by other processes since the previous call (or since the watch began)."""
        now = self._sample()
        last, self._last = self._last, now
        if now is None or last is None:
            return None
        busy, total, cpus = now[0] - last[0], now[1] - last[1], now[2]
        if total <= 0 or cpus <= 0:
            return None
        ticks_per_cpu = total / cpus
        return max(0.0, (busy - (now[3] - last[3])) / ticks_per_cpu)

    def settle(self, seconds: float = 0.25) -> float | None:
        """Wait ``seconds`` and say how busy the others kept the CPUs meanwhile (a first estimate)."""
        self.busy_elsewhere()
        time.sleep(seconds)
        return self.busy_elsewhere()
