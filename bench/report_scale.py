#!/usr/bin/env python3
"""The report at archive scale (issue 19): the whole xwlb archive in at most 3 minutes and 1 GB.

    python bench/report_scale.py [--corpus ../shared/corpora/xwlb.jsonl.gz] [--by province]

Runs ``analyze.py report`` on the archive (74,504 stories) into a scratch
folder and prints its wall time, the peak memory of its largest process
(getrusage) and the peak of all its processes together (the reading process
and the workers, sampled from /proc every 0.2 s), and the size of what it wrote.
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants."""
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        try:
            with open(f"/proc/{current}/status") as status:
                total += next((int(line.split()[1]) * 1024 for line in status if line.startswith("VmRSS:")), 0)
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children") as children:
                    stack += [int(c) for c in children.read().split()]
        except (OSError, ValueError):
            continue
    return total


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", default=str(ROOT.parent / "shared" / "corpora" / "xwlb.jsonl.gz"))
    parser.add_argument("--by", default=None, choices=["province", "city", "county"])
    args = parser.parse_args()
    if not Path(args.corpus).exists():
        print(f"{args.corpus}: not found; this bench needs the xwlb corpus. Nothing measured.")
        return 0
    with tempfile.TemporaryDirectory(prefix="countythemes-bench-") as scratch:
        out = Path(scratch) / "report"
        command = [sys.executable, "analyze.py", "report", "--corpus", args.corpus, "--out", str(out)]
        if args.by:
            command += ["--by", args.by]
        load_before = f"{os.getloadavg()[0]:.1f}"
        start = time.perf_counter()
        process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        peak_tree = 0
        while process.poll() is None:
            peak_tree = max(peak_tree, _tree_rss(process.pid))
            time.sleep(0.2)
        seconds = time.perf_counter() - start
        error = process.stderr.read().decode(errors="replace")
        if process.returncode != 0 and "report written" not in error:  # exit 2 also for skipped records
            print(f"failed ({process.returncode}):\n{error}")
            return 1
        skipped = error.count("\nskipped ") + error.startswith("skipped ")
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        largest = usage.ru_maxrss // 1024
        rows = sum(1 for _ in open(out / "paragraphs.csv", "rb")) - 1
        print(f"$ {' '.join(command[1:])}")
        print(f"wall time                         {seconds:8.1f} s   (target: 180 s)")
        print(f"CPU time, all processes           {usage.ru_utime + usage.ru_stime:8.1f} s   "
              f"(2 cores: a quiet machine needs at least half of it as wall time)")
        print(f"peak memory, largest process      {largest:8,} MB  (target: 1,024 MB)")
        print(f"peak memory, all processes        {peak_tree / 2**20:8,.0f} MB  (sampled every 0.2 s)")
        print(f"paragraphs.csv rows               {rows:8,}   ({skipped} records skipped, exit {process.returncode})")
        print(f"load average before/after         {load_before} / {os.getloadavg()[0]:.1f} (2 cores; other work slows it)")
        for path in sorted(out.iterdir()):
            print(f"  {path.name:<30}{path.stat().st_size / 2**20:8.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
