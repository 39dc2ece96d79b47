"""Worker processes for long runs: classifying archives and the topic K search.

Workers are forked, so they share what the parent loaded (models, the corpus)
without pickling it. They leave Ctrl-C and SIGTERM to the parent, which ends
the pool, and each uses one BLAS thread: two workers on two cores, not four
threads fighting for them.
"""
from __future__ import annotations

import multiprocessing
import os
import signal
from contextlib import contextmanager
from typing import Iterator


def cores() -> int:
    return os.cpu_count() or 1


def _quiet_worker() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)


@contextmanager
def pool(workers: int) -> Iterator:
    """A pool of forked workers, ended (and its workers stopped) when the block ends."""
    with multiprocessing.get_context("fork").Pool(workers, initializer=_quiet_worker) as forked:
        yield forked
