"""The progress bar of long runs."""
from __future__ import annotations

import io

from countythemes.progress import Progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_a_bar_with_the_time_left_on_a_terminal_and_nothing_when_piped():
    now = [100.0]
    terminal = _Terminal()
    progress = Progress("paragraphs", stream=terminal, clock=lambda: now[0])
    progress.start(4_000)
    progress.read(1_000)
    now[0] += 2.0
    progress.step(500)          # a quarter of the input read in 2 s: 6 s to go
    progress.read(3_000)
    now[0] += 0.2
    progress.step(300)          # redrawn at most twice a second
    now[0] += 4.0
    progress.step(1_200)
    progress.done()
    frames = terminal.getvalue().split("\r")[1:]
    assert frames[0].startswith("[######..................]  25%  500 paragraphs (250/s), about 6 s left")
    assert frames[1].startswith("[########################] 100%  2,000 paragraphs (323/s), about 0 s left")
    assert frames[2].startswith("2,000 paragraphs in 6.2 s") and len(frames) == 3

    piped = io.StringIO()
    progress = Progress("paragraphs", stream=piped, clock=lambda: now[0])
    progress.start(4_000)
    now[0] += 5.0
    progress.step(100)
    progress.done()
    assert piped.getvalue() == ""
