"""Worker processes for long runs: classifying archives and the topic K search.

Workers are forked, so they share what the parent loaded (models, the corpus)
without pickling it. They leave Ctrl-C to the parent, which ends them; SIGTERM
ends a worker at once, which is safe because workers share no lock. Each uses
one BLAS thread: two workers on two cores, not four threads fighting for them.
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


@contextmanager
def one_blas_thread() -> Iterator[None]:
    """Training's linear algebra on one BLAS thread, as in the workers: small matrices gain nothing from
    threads, and threads fighting over two cores made ``train.py --check`` 4 times slower (78 s vs 18 s)."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


def _quiet_worker() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    from threadpoolctl import threadpool_limits

    threadpool_limits(limits=1)


@contextmanager
def mapper(workers: int) -> Iterator[Callable]:
    """``map`` for one worker; for more, an ordered map over forked workers, at most 4 items per worker in flight."""
    if workers <= 1:
        yield map
        return
    gc.freeze()  # what the parent loaded is never collected in a worker, so its pages stay shared
    crew = _Crew(workers)
    try:
        yield crew.map
    except BaseException:
        crew.stop(finished=False)
        raise
    crew.stop(finished=True)


class _Crew:
    """Forked workers, each with a pipe of its own for tasks and one for results.

    ``multiprocessing.Pool`` shares its queues' locks between all workers: a
    worker killed while holding one (SIGTERM sent to the whole process group
    while a slow reader keeps the result queue full) leaves the parent waiting
    for that lock in ``Pool.terminate`` for ever. Here nothing is shared, so a
    worker that dies, however it dies, only closes its own pipes; the parent
    sees that, and ending the crew is killing and reaping its processes.
    """

    def __init__(self, workers: int):
        context = multiprocessing.get_context("fork")
        self.processes: list = []
        self.tasks: list = []  # the parent's ends
        self.results: list = []
        for _ in range(workers):
            task_reader, task_writer = context.Pipe(duplex=False)
            result_reader, result_writer = context.Pipe(duplex=False)
            parent_ends = self.tasks + self.results + [task_writer, result_reader]
            process = context.Process(target=_serve, daemon=True, args=(task_reader, result_writer, parent_ends))
            process.start()
            task_reader.close()
            result_writer.close()
            self.processes.append(process)
            self.tasks.append(task_writer)
            self.results.append(result_reader)
        self.stopping = threading.Event()

    def map(self, function: Callable, items: Iterable) -> Iterator:
        """``function`` of each item, in order: item i goes to worker i mod n, and its result comes
        back from there. A thread sends the items, so the parent taking results never waits for a
        worker that waits for the parent."""
        n = len(self.processes)
        slots = threading.Semaphore(4 * n)
        sent: list[int | None] = [None]  # how many items there were, once all are sent
        failure: list[BaseException] = []

        def feed() -> None:
            count = 0
            try:
                for item in items:
                    while not slots.acquire(timeout=0.1):
                        if self.stopping.is_set():
                            return
                    self.tasks[count % n].send((function, item))
                    count += 1
            except BaseException as error:  # the parent raises it, unless it is already stopping
                failure.append(error)
            finally:
                sent[0] = count

        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        index = 0
        while True:
            results = self.results[index % n]
            while not results.poll(0.1):
                if sent[0] is not None and not results.poll():
                    if failure and not self.stopping.is_set():
                        raise failure[0]
                    if index >= sent[0]:
                        return
            try:
                succeeded, value = results.recv()
            except EOFError:
                process = self.processes[index % n]
                process.join(1)
                raise WorkerError(f"a worker process ended before its work was done (exit code "
                                  f"{process.exitcode})") from None
            slots.release()
            if not succeeded:
                raise WorkerError(value)
            yield value
            index += 1

    def stop(self, finished: bool) -> None:
        """End the workers: told there is no more work after a run that went through, killed otherwise."""
        self.stopping.set()
        for tasks in self.tasks:
            tasks.close()
        for process in self.processes:
            if not finished:
                process.kill()
            process.join()
        for results in self.results:
            results.close()


def _serve(tasks, results, inherited: list) -> None:
    """A worker: takes (function, item) from its task pipe until the parent closes it."""
    for connection in inherited:  # the parent's ends of the pipes, inherited by the fork: closed, so
        connection.close()        # that a pipe ends when the parent closes it or dies
    _quiet_worker()
    while True:
        try:
            function, item = tasks.recv()
        except EOFError:
            return
        try:
            outcome = (True, function(item))
        except Exception:
            import traceback

            outcome = (False, traceback.format_exc())
        results.send(outcome)


class WorkerError(Exception):
    """An error inside a worker, as text: any exception the pool fails to unpickle would hang it."""
