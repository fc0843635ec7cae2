"""``casecal worker`` as the scale-out tests run it: the production entry point with short
timings (sweep every 2 s, heartbeat every 0.5 s, a worker silent for 3 s is dead).

Usage: ``python scale_worker_main.py NAME CONCURRENCY`` with the ``CASECAL_*`` environment.
"""

from __future__ import annotations

import sys

from casecal.config import Settings
from casecal.logging import configure_logging
from casecal.sync.worker import WorkerTuning, run_worker

TEST_TUNING = WorkerTuning(
    sweep_cron="* * * * * */2",
    heartbeat_seconds=0.5,
    stalled_seconds=3.0,
    fetch_polling_seconds=0.5,
)


def main() -> None:
    name, concurrency = sys.argv[1], int(sys.argv[2])
    settings = Settings()
    configure_logging(json=settings.log_json, level=settings.log_level)
    run_worker(settings, concurrency=concurrency, tuning=TEST_TUNING, name=name)


if __name__ == "__main__":
    main()
