"""Worker processes for long runs: classifying archives and the topic K search.

Workers are forked, so they share what the parent loaded (models, the corpus)
without pickling it. They leave Ctrl-C and SIGTERM to the parent, which ends
the pool, and each uses one BLAS thread: two workers on two cores, not four
threads fighting for them.
"""
from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import threading
from contextlib import contextmanager
from typing import Callable, Iterable, Iterator


def cores() -> int:
    return os.cpu_count() or 1


#: OpenBLAS core types (``OPENBLAS_CORETYPE``) and the CPU flags their kernels need, newest first.
_CORE_TYPE_FLAGS = (("SkylakeX", {"avx512f", "avx512cd", "avx512bw", "avx512dq", "avx512vl"}),
                    ("Haswell", {"avx2", "fma"}), ("Sandybridge", {"avx"}), ("Nehalem", {"sse4_2"}),
                    ("Prescott", {"pni"}))


def openblas_core_types(cpuinfo: str = "/proc/cpuinfo") -> list[str]:
    """The OpenBLAS core types whose kernels this CPU can run (forcing another one ends the process with
    an illegal instruction); empty where the CPU's flags cannot be read."""
    try:
        with open(cpuinfo, encoding="utf-8") as info:
            flags = next((set(line.split(":", 1)[1].split()) for line in info if line.startswith("flags")), set())
    except OSError:
        return []
    return [core for core, needs in _CORE_TYPE_FLAGS if needs <= flags]


def _quiet_worker() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)


@contextmanager
def pool(workers: int) -> Iterator:
    """A pool of forked workers, ended (and its workers stopped) when the block ends."""
    gc.freeze()  # what the parent loaded is never collected in a worker, so its pages stay shared
    with multiprocessing.get_context("fork").Pool(workers, initializer=_quiet_worker) as forked:
        yield forked


@contextmanager
def mapper(workers: int) -> Iterator[Callable]:
    """``map`` for one worker; for more, a pool's ordered ``imap``, with at most 4 items per worker in flight."""
    if workers <= 1:
        yield map
        return
    with pool(workers) as forked:
        yield lambda function, items: bounded_imap(forked, _Reported(function), items, window=4 * workers)


class WorkerError(Exception):
    """An error inside a worker, as text: any exception the pool fails to unpickle would hang it."""


class _Reported:
    def __init__(self, function: Callable):
        self.function = function

    def __call__(self, item):
        try:
            return self.function(item)
        except Exception:
            import traceback

            raise WorkerError(traceback.format_exc()) from None


def bounded_imap(forked, function: Callable, items: Iterable, window: int) -> Iterator:
    """``forked.imap(function, items)`` with at most ``window`` items given out and not yet taken back.

    A pool reads its input as fast as it can and keeps every result until it
    is asked for; when the output is written slower than the workers work (a
    pipe into a pager), memory would grow with the corpus. Here the pool's
    feeder waits instead, and stops waiting when the results are no longer
    wanted (an error, Ctrl-C), so the pool can always be closed.
    """
    slots = threading.Semaphore(window)
    unwanted = threading.Event()

    def fed() -> Iterator:
        for item in items:
            while not slots.acquire(timeout=0.1):
                if unwanted.is_set():
                    return
            yield item

    try:
        for result in forked.imap(function, fed()):
            slots.release()
            yield result
    finally:
        unwanted.set()
