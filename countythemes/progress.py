"""What a user of the command line sees of long work: a progress bar (the archive takes minutes) and the
library's log lines on the right stream."""
from __future__ import annotations

import logging
import sys
import time
from typing import Callable, TextIO

__all__ = ["ConsoleLog", "Progress", "SkippedInputs"]


class Progress:
    """A bar on a stream, redrawn in place, with the paragraphs done, their rate and the time left; only
    on a terminal, so piped output stays clean. The bar follows the input bytes read out of the total
    (without a total, as when reading standard input, it is a count and a rate).

    Examples
    --------
    >>> import io
    >>> bar = Progress("paragraphs", stream=io.StringIO())  # not a terminal: draws nothing
    >>> bar.start(100); bar.read(50); bar.step(10); bar.done()
    >>> bar.count
    10
    """

    WIDTH = 24

    def __init__(self, unit: str, stream: TextIO | None = None, clock: Callable[[], float] = time.monotonic):
        self.unit, self.total, self.count, self.taken = unit, 0, 0, 0
        self.stream = stream or sys.stderr
        self.clock = clock
        self.start_time = self.last = self.clock()
        self.shown = self.stream.isatty()

    def start(self, total: int) -> None:
        self.total = total
        self.start_time = self.last = self.clock()

    def read(self, size: int) -> None:
        self.taken += size

    def step(self, done: int = 1) -> None:
        self.count += done
        if self.shown and self.clock() - self.last >= 0.5:
            self.last = self.clock()
            elapsed = self.last - self.start_time
            counted = f"{self.count:,} {self.unit} ({self.count / elapsed:,.0f}/s)"
            if self.total:
                share = min(self.taken / self.total, 1.0)
                filled = round(share * self.WIDTH)
                left = f", about {elapsed * (1 - share) / share:.0f} s left" if share > 0 else ""
                counted = f"[{'#' * filled}{'.' * (self.WIDTH - filled)}] {share:4.0%}  {counted}{left}"
            self.stream.write(f"\r{counted}\x1b[K")
            self.stream.flush()

    def done(self) -> None:
        if self.shown and self.count and self.last > self.start_time:
            self.stream.write(f"\r{self.count:,} {self.unit} in {self.clock() - self.start_time:.1f} s\x1b[K\n")


class ConsoleLog(logging.Handler):
    """The library's log as the command prints it: what it finds on stdout where that is free (training,
    topics), else on stderr (where stdout is the data); notes on the work and warnings always on stderr.
    Streams are looked up when a line comes."""

    def __init__(self) -> None:
        super().__init__()
        self.to_stdout = False

    def emit(self, record: logging.LogRecord) -> None:
        warning = record.levelno >= logging.WARNING
        note = record.name.startswith("countythemes.progress")
        stream = sys.stdout if self.to_stdout and not warning and not note else sys.stderr
        print(("warning: " if warning else "") + record.getMessage(), file=stream, flush=True)

    @classmethod
    def install(cls) -> "ConsoleLog":
        """The handler of the ``countythemes`` logger (one, however often a command runs in a process)."""
        logger = logging.getLogger("countythemes")
        handler = next((h for h in logger.handlers if isinstance(h, cls)), None)
        if handler is None:
            handler = cls()
            logger.addHandler(handler)
        logger.setLevel(logging.INFO)
        logger.propagate = False
        return handler


class SkippedInputs:
    """Collects skipped inputs: each is reported at once, the exit code at the end."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, problem: Exception) -> None:
        self.count += 1
        print(f"skipped {problem}", file=sys.stderr, flush=True)

    def exit_code(self) -> int:
        return 2 if self.count else 0  # bad input
