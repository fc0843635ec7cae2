"""Wall time, CPU time and peak RSS growth of the bench process around one measured section."""

from __future__ import annotations

import ctypes
import ctypes.util
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
    """Peak resident set size of this process since ``reset_peak_rss`` (Linux ``VmHWM``),
    else since it started (``ru_maxrss``, in KiB on Linux)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def trim_heap() -> None:
    """Hand the C heap's free memory back to the system (glibc ``malloc_trim``), so the
    resident size a section starts from is what is in use, not what a set-up freed."""
    name = ctypes.util.find_library("c")
    if name is None:
        return
    libc = ctypes.CDLL(name)
    if hasattr(libc, "malloc_trim"):
        libc.malloc_trim(0)


def reset_peak_rss() -> bool:
    """Start the peak afresh from the resident size now (Linux >= 4.0: ``clear_refs`` 5
    resets ``VmHWM``), so the set-up's own peak (a large seeding) is not counted; False
    where that is not possible (the peak is then the process's)."""
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
    except OSError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class Measured:
    wall_s: float
    cpu_s: float
    rss_growth_mb: float


class Meter:
    """``start`` before the section, ``stop`` after. RSS growth is the peak after minus the
    resident size before, after a garbage collection and ``trim_heap``; the peak is reset at
    ``start`` on Linux, so it is the section's own (elsewhere, where the set-up before it may
    have peaked higher, an upper bound)."""

    def __init__(self) -> None:
        self._wall = self._cpu = self._rss = 0.0

    def start(self) -> None:
        gc.collect()
        trim_heap()
        reset_peak_rss()
        self._rss = current_rss_mb()
        self._cpu = time.process_time()
        self._wall = time.perf_counter()

    def stop(self) -> Measured:
        wall = time.perf_counter() - self._wall
        cpu = time.process_time() - self._cpu
        return Measured(wall, cpu, max(0.0, peak_rss_mb() - self._rss))
