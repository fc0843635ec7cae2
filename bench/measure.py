"""Wall time, CPU time and peak RSS growth of the bench process around one measured section."""

from __future__ import annotations

import gc
import os
import resource
import time
from dataclasses import dataclass

_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def current_rss_mb() -> float:
    """Resident set size now (Linux ``/proc``; elsewhere the peak so far)."""
    try:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * _PAGE / 2**20
    except OSError:
        return peak_rss_mb()


def peak_rss_mb() -> float:
    """Peak resident set size of this process (``ru_maxrss`` is in KiB on Linux)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass(frozen=True, slots=True)
class Measured:
    wall_s: float
    cpu_s: float
    rss_growth_mb: float


class Meter:
    """``start`` before the section, ``stop`` after. RSS growth is the peak after minus the
    resident size before; each sample runs in a fresh process, so the peak is the section's
    unless the set-up before it peaked higher (then it is an upper bound)."""

    def __init__(self) -> None:
        self._wall = self._cpu = self._rss = 0.0

    def start(self) -> None:
        gc.collect()
        self._rss = current_rss_mb()
        self._cpu = time.process_time()
        self._wall = time.perf_counter()

    def stop(self) -> Measured:
        wall = time.perf_counter() - self._wall
        cpu = time.process_time() - self._cpu
        return Measured(wall, cpu, max(0.0, peak_rss_mb() - self._rss))
